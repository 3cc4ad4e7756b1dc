package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;

/** {@code moe bench layer}, and the cuda backend of the benches where no GPU is usable. */
class BenchLayerCliTest {
    private static final String[] SMALL = {"--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "2", "--hidden", "64",
        "--intermediate", "128"};

    @TempDir
    Path dir;

    private static String[] args(String[] head, String... tail) {
        String[] all = new String[head.length + SMALL.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(SMALL, 0, all, head.length, SMALL.length);
        System.arraycopy(tail, 0, all, head.length + SMALL.length, tail.length);
        return all;
    }

    @Test
    void timesEachBackendAndBatchSize() throws IOException {
        Path json = dir.resolve("layer.json");
        MoeCliTest.Result r = Fp8CliTest.cli(args(new String[] {"bench", "layer"}, "--tokens", "1,8", "--backends", "java,cpu",
                "--seconds", "0.05", "--json", json.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode results = new ObjectMapper().readTree(json.toFile()).get("results");
        assertEquals(4, results.size(), results.toString());
        boolean anySlower = false;
        for (JsonNode row : results) {
            assertTrue(row.get("median_s").asDouble() > 0 && row.get("tokens_per_s").asDouble() > 0, row.toString());
            if (row.get("backend").asText().equals("cpu")) {
                assertEquals(1.0, row.get("speedup_vs_cpu").asDouble(), 1e-12);
            }
            if (row.get("backend").asText().equals("java")) {
                assertEquals(1.0, row.get("speedup_vs_java").asDouble(), 1e-12);
            }
            // Every row is compared with the reference (java) and flagged when slower than it.
            boolean slower = row.get("speedup_vs_java").asDouble() < 1.0;
            assertEquals(slower, row.get("slower_than_reference").asBoolean(), row.toString());
            anySlower |= slower;
        }
        assertTrue(r.out().contains("vs cpu") && r.out().contains("vs java"), r.out());
        assertEquals(anySlower, r.out().contains("SLOWER than the java reference"), r.out());
    }

    @Test
    void badShapesAreUsageErrors() {
        Path json = dir.resolve("bad.json");
        MoeCliTest.Result r = Fp8CliTest.cli("bench", "layer", "--intermediate", "100", "--json", json.toString());
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(json));
    }

    @Test
    void cudaWithoutAGpuFailsWithTheReason() {
        assumeFalse(Backends.status(Backend.CUDA).usable(), "a GPU is usable here");
        Path json = dir.resolve("cuda.json");
        MoeCliTest.Result layer = Fp8CliTest.cli(args(new String[] {"bench", "layer"}, "--tokens", "1", "--backends", "cuda",
                "--json", json.toString()));
        assertEquals(2, layer.code(), layer.err());  // an unavailable backend named explicitly: like route --backend cuda
        assertTrue(layer.err().contains("backend cuda is not available: no usable GPU"), layer.err());
        MoeCliTest.Result gemm = Fp8CliTest.cli("bench", "fp8-gemm", "--m", "8", "--n", "8", "--k", "8", "--backends", "cuda",
                "--json", json.toString());
        assertEquals(2, gemm.code(), gemm.err());
        assertTrue(gemm.err().contains("backend cuda is not available: no usable GPU"), gemm.err());
        assertFalse(Files.exists(json));
    }
}
