package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;

/** {@code moe fp8 quantize}: outputs per backend, shapes and dtypes, exit codes, no partial output. */
class Fp8CliTest {
    @TempDir
    Path dir;

    static MoeCliTest.Result cli(String... args) {
        return MoeCliTest.cli(args);
    }

    static float[] data(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-6, 6)));
        }
        return x;
    }

    private Path matrix(String name, float[] x, long... shape) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, Npy.ofFloats(x, shape));
        return p;
    }

    private MoeCliTest.Result quantize(Path in, String block, String backend, String... extra) {
        List<String> args = new ArrayList<>(List.of("fp8", "quantize", "--in", in.toString(), "--block", block,
                "--out-q", dir.resolve("q-" + backend + ".npy").toString(),
                "--out-scales", dir.resolve("s-" + backend + ".npy").toString(), "--backend", backend));
        args.addAll(List.of(extra));
        return cli(args.toArray(String[]::new));
    }

    @Test
    void javaAndCpuWriteByteIdenticalFilesMatchingTheLibrary() throws IOException {
        int rows = 131;
        int cols = 300;
        float[] x = data(rows * cols, 17);
        Path in = matrix("x.npy", x, rows, cols);
        for (Fp8Block block : Fp8Block.values()) {
            for (boolean pow2 : new boolean[] {false, true}) {
                String[] extra = pow2 ? new String[] {"--pow2-scales"} : new String[0];
                for (String backend : List.of("java", "cpu")) {
                    MoeCliTest.Result r = quantize(in, block.cliName(), backend, extra);
                    assertEquals(0, r.code(), r.err());
                    assertTrue(r.out().contains("on " + backend), r.out());
                }
                String what = block.cliName() + " pow2=" + pow2;
                assertArrayEquals(Files.readAllBytes(dir.resolve("q-java.npy")), Files.readAllBytes(dir.resolve("q-cpu.npy")), what);
                assertArrayEquals(Files.readAllBytes(dir.resolve("s-java.npy")), Files.readAllBytes(dir.resolve("s-cpu.npy")), what);

                QuantizedTensor expected = BlockQuantizer.quantize(x, rows, cols, block, pow2);
                NpyArray q = Npy.read(dir.resolve("q-cpu.npy"), Arena.ofAuto());
                NpyArray s = Npy.read(dir.resolve("s-cpu.npy"), Arena.ofAuto());
                assertEquals(NpyDType.UINT8, q.dtype());
                assertEquals(NpyDType.FLOAT32, s.dtype());
                assertArrayEquals(new long[] {rows, cols}, q.shape());
                assertArrayEquals(block == Fp8Block.ROW_1X128 ? new long[] {131, 3} : new long[] {2, 3}, s.shape());
                assertArrayEquals(expected.codes(), q.toByteArray(), what);
                assertArrayEquals(expected.scales(), s.toFloatArray(), what);
            }
        }
        String header = new String(Files.readAllBytes(dir.resolve("q-cpu.npy")), 0, 80, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '|u1'"), header);
    }

    @Test
    void autoBackendWorksAndHelpIsThere() throws IOException {
        Path in = matrix("small.npy", data(6, 1), 2, 3);
        MoeCliTest.Result r = quantize(in, "1x128", "auto");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, cli("fp8", "--help").code());
        assertTrue(cli("fp8", "quantize", "--help").out().contains("--pow2-scales"));
        assertTrue(cli("fp8").err().contains("quantize"), "without a subcommand: the usage on stderr");
    }

    @Test
    void badInputsExitTwoWithOneLineAndNoOutput() throws IOException {
        Path vector = matrix("vector.npy", data(10, 2), 10);
        Path cube = matrix("cube.npy", data(8, 2), 2, 2, 2);
        float[] withNan = data(4 * 200, 3);
        withNan[2 * 200 + 130] = Float.NaN;
        Path nan = matrix("nan.npy", withNan, 4, 200);
        Path ints = dir.resolve("ints.npy");
        Npy.write(ints, Npy.ofInts(new int[] {1, 2, 3, 4}, 2, 2));
        Path ok = matrix("ok.npy", data(6, 1), 2, 3);
        boolean gpu = dev.moe.backend.Backends.status(dev.moe.backend.Backend.CUDA).usable();
        List<MoeCliTest.Result> results = List.of(
                quantize(vector, "1x128", "cpu"),
                quantize(cube, "128x128", "java"),
                quantize(nan, "1x128", "cpu"),
                quantize(nan, "1x128", "java"),
                quantize(ints, "1x128", "cpu"),
                quantize(dir.resolve("missing.npy"), "1x128", "cpu"),
                quantize(ok, "64x64", "cpu"),
                quantize(ok, "1x128", "nonsense"),
                quantize(ok, "1x128", gpu ? "opencl" : "cuda"),  // cuda is only an error without a GPU
                cli("fp8", "quantize", "--in", ok.toString(), "--block", "1x128", "--out-q", dir.resolve("q-x.npy").toString()),
                cli("fp8", "quantize", "--in", ok.toString(), "--block", "1x128", "--out-q", dir.resolve("q-x.npy").toString(),
                        "--out-scales", dir.resolve("q-x.npy").toString()));
        for (MoeCliTest.Result r : results) {
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().startsWith("moe: "), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertTrue(results.get(0).err().contains("--in") && results.get(0).err().contains("(10,)"), results.get(0).err());
        assertTrue(results.get(1).err().contains("--in") && results.get(1).err().contains("(2, 2, 2)"), results.get(1).err());
        assertTrue(results.get(2).err().contains("[2, 130]"), results.get(2).err());
        assertTrue(results.get(3).err().contains("[2, 130]"), results.get(3).err());
        assertTrue(results.get(6).err().contains("--block"), results.get(6).err());
        assertTrue(gpu || results.get(8).err().contains("cuda") && results.get(8).err().contains("not available"), results.get(8).err());
        assertNoOutputs();
    }

    @Test
    void aFailedSecondWriteRemovesTheFirstOutput() throws IOException {
        Path in = matrix("ok.npy", data(6, 1), 2, 3);
        Path q = dir.resolve("q-cpu.npy");
        MoeCliTest.Result r = cli("fp8", "quantize", "--in", in.toString(), "--block", "1x128", "--backend", "cpu", "--out-q", q.toString(),
                "--out-scales", dir.resolve("no-such-dir").resolve("s.npy").toString());
        assertTrue(r.code() == 1 || r.code() == 2, r.err());
        assertFalse(Files.exists(q), "the codes file must not survive a failed scales write");
        assertNoOutputs();
    }

    private void assertNoOutputs() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("q-") || n.startsWith("s-") || n.endsWith(".tmp")).toList();
            assertEquals(List.of(), names);
        }
    }
}
