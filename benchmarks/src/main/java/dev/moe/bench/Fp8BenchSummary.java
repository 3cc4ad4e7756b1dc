package dev.moe.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Markdown summary of the {@code moe bench fp8-gemm} JSON files in a directory: GFLOP/s per backend,
 * as fractions of the FMA peak and read bandwidth measured in each run, and Vector API vs native.
 */
public final class Fp8BenchSummary {
    private Fp8BenchSummary() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".json") && (p.getFileName().toString().startsWith("gemm")
                    || p.getFileName().toString().startsWith("grouped"))).sorted().toList();
        }
        ObjectMapper om = new ObjectMapper();
        StringBuilder md = new StringBuilder("# FP8 block-scaled GEMM on the CPU (`moe bench fp8-gemm`)\n\n");
        boolean first = true;
        for (Path f : files) {
            JsonNode d = om.readTree(f.toFile());
            if (first) {
                md.append("Machine: ").append(d.get("machine").toString()).append("\n\n")
                        .append("| m | n | k | experts | FMA peak GFLOP/s | read GB/s | backend | ms | GFLOP/s | % of FMA peak | GB/s | "
                                + "% of read bw | vs cpu |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
                first = false;
            }
            double cpu = 0;
            for (JsonNode r : d.get("results")) {
                if (r.get("backend").asText().equals("cpu")) {
                    cpu = r.get("gflops").asDouble();
                }
            }
            for (JsonNode r : d.get("results")) {
                double g = r.get("gflops").asDouble();
                md.append(String.format(Locale.ROOT, "| %d | %d | %d | %d | %.1f | %.1f | %s | %.3f | %.2f | %.1f%% | %.2f | %.1f%% | %s |%n",
                        d.get("m").asInt(), d.get("n").asInt(), d.get("k").asInt(), d.get("experts").asInt(),
                        d.get("fma_peak_gflops").asDouble(), d.get("read_gbs").asDouble(), r.get("backend").asText(),
                        1e3 * r.get("median_s").asDouble(), g, 100 * r.get("fraction_of_peak").asDouble(), r.get("gbs").asDouble(),
                        100 * r.get("fraction_of_read_bandwidth").asDouble(), cpu > 0 ? String.format(Locale.ROOT, "%.2fx", g / cpu) : "-"));
            }
        }
        System.out.print(md);
    }
}
