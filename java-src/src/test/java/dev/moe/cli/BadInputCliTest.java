package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.io.Npy;
import dev.moe.routing.SyntheticLogits;

/** Bad input gets exit 2 and one line: never a crash, a hang, or an allocation the machine cannot make. */
class BadInputCliTest {
    @TempDir
    Path dir;

    /** Exit 2 with one line on stderr that contains every fragment, nothing on stdout. */
    private static MoeCliTest.Result usage(String[] args, String... fragments) {
        MoeCliTest.Result r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> MoeCliTest.cli(args),
                () -> String.join(" ", args) + " did not return");
        assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), String.join(" ", args) + ": '" + f + "' not in " + r.err());
        }
        return r;
    }

    private static String[] args(String... a) {
        return a;
    }

    /** A .npy header for a little-endian float32 array of {@code shape}, padded to 64 bytes as numpy does. */
    private static byte[] header(long... shape) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String tuple = dims.toString().replaceAll(", $", shape.length == 1 ? "," : "");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + tuple + "), }";
        int pad = 64 - (10 + dict.length() + 1) % 64;
        String text = dict + " ".repeat(pad % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** A .npy file whose data section is a hole (a sparse file): its size costs no disk. */
    private Path sparseNpy(String name, long... shape) throws IOException {
        Path p = dir.resolve(name);
        byte[] h = header(shape);
        long data = 4;
        for (long d : shape) {
            data *= d;
        }
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(h);
            f.setLength(h.length + data);
        }
        return p;
    }

    @Test
    void sizesThatOverflowOrDoNotFitAreRefusedBeforeAllocating() throws IOException {
        Path csv = dir.resolve("run.csv");
        String heap = "of Java heap";
        String needs = "needs about";
        MoeCliTest.Result r = usage(args("simulate", "--tokens-per-step", "2147483647", "--steps", "1", "--csv", csv.toString(),
                "--backend", "java"), "simulate --tokens-per-step 2147483647", needs, "of native memory");
        assertFalse(r.err().contains("-2147"), "no overflowed count: " + r.err());
        usage(args("simulate", "--tokens-per-step", "1000000000", "--steps", "1", "--csv", csv.toString()), needs);
        usage(args("simulate", "--layers", "100000000", "--steps", "1", "--csv", csv.toString()), "--layers 100000000", needs, heap);
        usage(args("simulate", "--steps", "2000000000", "--csv", csv.toString()), needs, heap);
        assertFalse(Files.exists(csv));

        Path loads = dir.resolve("loads.npy");
        Npy.write(loads, Npy.ofFloats(new float[4 * 64], 4, 64));
        Path out = dir.resolve("o.npy");
        usage(args("eplb", "--loads", loads.toString(), "--replicas", "100000000", "--groups", "8", "--nodes", "1", "--gpus", "8",
                "--out-phy2log", out.toString(), "--out-log2phy", dir.resolve("x.npy").toString()), "--replicas 100000000", needs, heap);
        // 2^32 + 1 layers used to be read as one.
        Path tall = sparseNpy("tall.npy", (1L << 32) + 1, 1);
        usage(args("eplb", "--loads", tall.toString(), "--replicas", "2", "--groups", "1", "--nodes", "1", "--gpus", "1",
                "--out-phy2log", out.toString()), "--loads " + tall, "(4294967297, 1)", "too large");
        assertFalse(Files.exists(out));

        // B of 2^32 + 16 rows and K = 0 used to be read as 16 rows.
        Path b = sparseNpy("b.npy", (1L << 32) + 16, 0);
        Path a = sparseNpy("a.npy", 4, 0);
        Path c = dir.resolve("c.npy");
        usage(args("fp8", "gemm", "--a", a.toString(), "--b", b.toString(), "--out", c.toString(), "--backend", "java"),
                "--b " + b, "too large");
        assertFalse(Files.exists(c));

        usage(args("demo", "--tokens", "2000000000", "--plot", dir.resolve("d.png").toString()), "demo --tokens 2000000000", needs);
        usage(args("bench", "fp8-gemm", "--m", "1", "--n", "128", "--k", "2000000000", "--json", dir.resolve("b.json").toString()),
                "--k 2000000000", needs, heap);
        usage(args("bench", "route", "--tokens", "2000000000", "--json", dir.resolve("b.json").toString()), needs);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString())
                    .filter(n -> !List.of("loads.npy", "tall.npy", "a.npy", "b.npy").contains(n)).toList());
        }
    }

    @Test
    void aFifoAsInputIsRefusedAtOnce() throws Exception {
        Path fifo = dir.resolve("fifo.npy");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        String f = fifo.toString();
        String o = dir.resolve("o.npy").toString();
        String fragment = "is not a regular file";
        usage(args("route", "--logits", f, "--out-ids", o, "--out-weights", dir.resolve("w.npy").toString()), "--logits " + f, fragment);
        usage(args("eplb", "--loads", f, "--replicas", "2", "--groups", "1", "--nodes", "1", "--gpus", "1", "--out-phy2log", o),
                "--loads " + f, fragment);
        usage(args("fp8", "quantize", "--in", f, "--block", "1x128", "--out-q", o, "--out-scales", dir.resolve("s.npy").toString()),
                "--in " + f, fragment);
        usage(args("fp8", "gemm", "--a", f, "--b", f, "--out", o), "--a " + f, fragment);
        usage(args("layer", "--weights", f, "--layer", "0", "--input", f, "--out", o), "--weights " + f, fragment);
        assertFalse(Files.exists(dir.resolve("o.npy")));
    }

    @Test
    void timesThreadsAndDemoValuesAreBounded() {
        String json = dir.resolve("b.json").toString();
        for (String seconds : List.of("NaN", "Infinity", "-1", "0", "1e9")) {
            usage(args("demo", "--seconds", seconds), "--seconds must be > 0 and at most 86400");
            usage(args("soak", "--seconds", seconds), "--seconds");
            usage(args("bench", "route", "--tokens", "16", "--seconds", seconds, "--json", json), "--seconds");
            usage(args("bench", "fp8-gemm", "--m", "1", "--n", "1", "--k", "1", "--seconds", seconds, "--json", json), "--seconds");
            usage(args("bench", "layer", "--seconds", seconds, "--json", json), "--seconds");
        }
        usage(args("soak", "--threads", "100000"), "--threads must be between 1 and 1024, got 100000");
        usage(args("soak", "--threads", "0"), "--threads");
        usage(args("demo", "--skew", "NaN"), "--skew must be finite and >= 0");
        usage(args("demo", "--skew", "-0.5"), "--skew");
        usage(args("demo", "--gpus-per-node", "0"), "--gpus-per-node must be >= 1");
        usage(args("demo", "--tokens", "0"), "--tokens must be >= 1");
        usage(args("demo", "--sim-steps", "-1"), "--sim-steps must be >= 0");
        assertFalse(Files.exists(dir.resolve("b.json")));
    }

    @Test
    void noCommandPrintsTheUsageOnStderrAndExitsTwo() {
        MoeCliTest.Result r = MoeCliTest.cli();
        assertEquals(2, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("Usage: moe"), r.err());
        assertTrue(r.err().contains("route"), r.err());
        for (String group : List.of("bench", "fp8")) {
            r = MoeCliTest.cli(group);
            assertEquals(2, r.code(), group);
            assertTrue(r.err().startsWith("Usage: moe " + group), r.err());
        }
    }

    /**
     * As a user runs it (its own JVM, no Vector API module, the CLI's logging): a usage error is one line on
     * stderr, with no JVM warning and no "backend auto picked" line before it.
     */
    @Test
    void stderrIsOneLineOnBadUsageWithBackendAuto() throws Exception {
        Path nan = dir.resolve("nan.npy");
        float[] z = SyntheticLogits.generate(4, 256, 1f, 1);
        z[2 * 256 + 7] = Float.NaN;
        Npy.write(nan, Npy.ofFloats(z, 4, 256));
        Path o = dir.resolve("o.npy");
        List<String[]> runs = new ArrayList<>();
        runs.add(args("route", "--logits", nan.toString(), "--out-ids", o.toString(), "--out-weights", dir.resolve("w.npy").toString()));
        runs.add(args("fp8", "quantize", "--in", nan.toString(), "--block", "1x128", "--out-q", o.toString(), "--out-scales",
                dir.resolve("s.npy").toString()));
        runs.add(args("simulate", "--steps", "0", "--csv", dir.resolve("r.csv").toString()));
        List<String> errors = new ArrayList<>();
        for (String[] a : runs) {
            CliProcess.Result r = CliProcess.run(dir, a);
            assertEquals(2, r.code(), String.join(" ", a) + "\n" + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", a) + ":\n" + r.err());
            assertTrue(r.err().startsWith("moe: "), r.err());
            errors.add(r.err());
        }
        assertTrue(errors.getFirst().contains("row 2"), errors.getFirst());
        assertFalse(Files.exists(o));
    }
}
