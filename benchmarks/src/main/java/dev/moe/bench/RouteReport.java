package dev.moe.bench;

import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Turns the JMH JSON of {@link RouteBenchmark} and {@link FfmOverheadBenchmark} into the ratios the
 * project quotes: native CPU vs the Java reference (baseline) per batch size, and the FFM call cost
 * as a share of a 4096-token call. Usage: {@code RouteReport jmh-result.json}.
 */
public final class RouteReport {
    private RouteReport() {}

    public static void main(String[] args) throws IOException {
        JsonNode root = new ObjectMapper().readTree(new File(args[0]));
        Map<Integer, Map<String, Double>> usPerCall = new TreeMap<>();
        double noopNs = Double.NaN;
        for (JsonNode b : root) {
            String name = b.get("benchmark").asText();
            double score = b.get("primaryMetric").get("score").asDouble();
            if (name.endsWith("emptyNativeCall")) {
                noopNs = score;
            } else if (name.endsWith("RouteBenchmark.route")) {
                int tokens = b.get("params").get("tokens").asInt();
                usPerCall.computeIfAbsent(tokens, t -> new TreeMap<>()).put(b.get("params").get("path").asText(), score);
            }
        }
        System.out.println("| tokens | java µs | cpu-segment µs | cpu-array µs | cpu-segment tokens/s | cpu-segment vs java | cpu-array vs java |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        for (var e : usPerCall.entrySet()) {
            Map<String, Double> m = e.getValue();
            double java = m.getOrDefault("java", Double.NaN);
            double seg = m.getOrDefault("cpu-segment", Double.NaN);
            double arr = m.getOrDefault("cpu-array", Double.NaN);
            System.out.printf("| %d | %.2f | %.2f | %.2f | %,.0f | %.1fx | %.1fx |%n", e.getKey(), java, seg, arr,
                    e.getKey() / (seg * 1e-6), java / seg, java / arr);
        }
        Map<String, Double> t4096 = usPerCall.get(4096);
        if (t4096 != null && !Double.isNaN(noopNs)) {
            double call = t4096.get("cpu-segment") * 1e3;
            System.out.printf("%nEmpty FFM call: %.1f ns = %.4f %% of a 4096-token cpu-segment call (%.0f ns).%n", noopNs,
                    100 * noopNs / call, call);
        }
    }
}
