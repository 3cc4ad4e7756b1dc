package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8GemmReference;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;

/** {@code moe fp8 gemm} and {@code moe bench fp8-gemm} (docs/cli.md). */
class Fp8GemmCliTest {
    @TempDir
    Path dir;

    private Path matrix(String name, float[] x, long... shape) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, Npy.ofFloats(x, shape));
        return p;
    }

    private static float[] read(Path p) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray a = Npy.readFloat32(p, arena);
            return a.toFloatArray();
        }
    }

    @Test
    void gemmMatchesTheLibraryOnBothBackends() throws IOException {
        int m = 5;
        int n = 140;
        int k = 300;
        float[] a = Fp8CliTest.data(m * k, 1);
        float[] b = Fp8CliTest.data(n * k, 2);
        Path pa = matrix("a.npy", a, m, k);
        Path pb = matrix("b.npy", b, n, k);
        float[] want = Fp8GemmReference.gemm(BlockQuantizer.quantize(a, m, k, Fp8Block.ROW_1X128, false),
                BlockQuantizer.quantize(b, n, k, Fp8Block.TILE_128X128, false));
        for (String backend : new String[] {"java", "cpu"}) {
            Path out = dir.resolve("c-" + backend + ".npy");
            MoeCliTest.Result r = Fp8CliTest.cli("fp8", "gemm", "--a", pa.toString(), "--b", pb.toString(), "--out", out.toString(),
                    "--backend", backend);
            assertEquals(0, r.code(), r.err());
            float[] c = read(out);
            assertEquals(m * n, c.length);
            for (int i = 0; i < c.length; i++) {
                assertEquals(want[i], c[i], 1e-4f * (1 + Math.abs(want[i])), backend + " element " + i);
            }
        }
        assertArrayEqualsBits(want, read(dir.resolve("c-java.npy")));
    }

    @Test
    void badShapesExitTwoAndWriteNothing() throws IOException {
        Path a = matrix("a.npy", new float[12], 3, 4);
        Path b = matrix("b.npy", new float[10], 2, 5);
        Path v = matrix("v.npy", new float[4], 4);
        Path out = dir.resolve("c.npy");
        for (String[] args : new String[][] {{"--a", a.toString(), "--b", b.toString()}, {"--a", v.toString(), "--b", b.toString()},
                {"--a", a.toString(), "--b", dir.resolve("missing.npy").toString()}}) {
            String[] full = new String[args.length + 5];
            full[0] = "fp8";
            full[1] = "gemm";
            System.arraycopy(args, 0, full, 2, args.length);
            full[args.length + 2] = "--out";
            full[args.length + 3] = out.toString();
            full[args.length + 4] = "--backend=cpu";
            MoeCliTest.Result r = Fp8CliTest.cli(full);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void benchWritesJsonWithPeakFractions() throws IOException {
        Path json = dir.resolve("bench.json");
        MoeCliTest.Result r = Fp8CliTest.cli("bench", "fp8-gemm", "--m", "8", "--n", "256", "--k", "256", "--seconds", "0.2",
                "--backends", "java,cpu", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertTrue(doc.get("fma_peak_gflops").asDouble() > 0);
        assertTrue(doc.get("read_gbs").asDouble() > 0);
        JsonNode results = doc.get("results");
        assertEquals(3, results.size(), results.toString());  // java, java-vector, cpu
        for (JsonNode row : results) {
            assertTrue(row.get("gflops").asDouble() > 0 && row.get("fraction_of_peak").asDouble() > 0, row.toString());
        }
        MoeCliTest.Result grouped = Fp8CliTest.cli("bench", "fp8-gemm", "--m", "8", "--n", "128", "--k", "128", "--experts", "4",
                "--seconds", "0.1", "--backends", "cpu", "--json", json.toString());
        assertEquals(0, grouped.code(), grouped.err());
        assertEquals(2, Fp8CliTest.cli("bench", "fp8-gemm", "--m", "6", "--n", "8", "--k", "8", "--experts", "4", "--json",
                json.toString()).code());
    }

    private static void assertArrayEqualsBits(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "java backend is the reference, element " + i);
        }
    }
}
