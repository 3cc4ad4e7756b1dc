package dev.moe.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Markdown from Fp8CodecBenchmark's JMH JSON: Gelem/s per method and ratios to the native kernel. */
public final class Fp8CodecReport {
    private Fp8CodecReport() {}

    public static void main(String[] args) throws IOException {
        JsonNode runs = new ObjectMapper().readTree(Path.of(args[0]).toFile());
        double elements = (double) Fp8CodecBenchmark.ROWS * Fp8CodecBenchmark.COLS;
        Map<String, Double> ms = new LinkedHashMap<>();
        for (JsonNode r : runs) {
            String name = r.get("benchmark").asText();
            ms.put(name.substring(name.lastIndexOf('.') + 1), r.get("primaryMetric").get("score").asDouble());
        }
        StringBuilder md = new StringBuilder("| operation | ms per 2^24 floats | Gelem/s | vs native |\n|---|---|---|---|\n");
        for (Map.Entry<String, Double> e : ms.entrySet()) {
            String op = e.getKey();
            String nativeName = op.startsWith("encode") ? "encodeNative" : "quantize1x128Native";
            Double nat = ms.get(nativeName);
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s |%n", op, e.getValue(), elements / (e.getValue() * 1e-3) / 1e9,
                    nat == null ? "-" : String.format(Locale.ROOT, "%.2fx slower", e.getValue() / nat)));
        }
        System.out.print(md);
    }
}
