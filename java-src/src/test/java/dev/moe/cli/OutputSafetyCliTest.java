package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.io.Npy;
import dev.moe.layer.MoeLayerCheckpoint;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.SyntheticLogits;
import dev.moe.safetensors.SafetensorsWriter;

/**
 * A failing command never deletes or changes a user's file: every output location is checked before any
 * work, outputs are written all or none, an output is never an input or another output, and a killed
 * command leaves no temporary file.
 */
class OutputSafetyCliTest {
    @TempDir
    Path dir;

    /** Files that exist before each command, and their contents. */
    private final Map<Path, byte[]> before = new HashMap<>();

    private Path logits;
    private Path loads;
    private Path matrix;
    private Path checkpoint;
    private Path hidden;

    private static final String[] LAYER_CONFIG = {"--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "2",
        "--group-score", "max"};

    @BeforeEach
    void inputs() throws IOException {
        logits = dir.resolve("L.npy");
        Npy.write(logits, Npy.ofFloats(SyntheticLogits.generate(16, 256, 1f, 1), 16, 256));
        loads = dir.resolve("loads.npy");
        float[] w = new float[2 * 12];
        for (int i = 0; i < w.length; i++) {
            w[i] = 1 + (i * 37) % 11;
        }
        Npy.write(loads, Npy.ofFloats(w, 2, 12));
        matrix = dir.resolve("X.npy");
        Npy.write(matrix, Npy.ofFloats(SyntheticLogits.generate(4, 256, 1f, 2), 4, 256));
        checkpoint = dir.resolve("ckpt.safetensors");
        RoutingConfig config = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(2).build();
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, 0, MoeLayerWeights.synthetic(config, 128, 128, false, 3), false);
        out.write(checkpoint);
        hidden = dir.resolve("H.npy");
        Npy.write(hidden, Npy.ofFloats(SyntheticLogits.generate(3, 128, 1f, 4), 3, 128));
    }

    private Path existing(String name) throws IOException {
        Path p = Files.writeString(dir.resolve(name), "OLD " + name);
        before.put(p, Files.readAllBytes(p));
        return p;
    }

    private void assertUntouched() throws IOException {
        for (var e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), e.getKey() + " was changed");
        }
        try (Stream<Path> files = Files.walk(dir)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList());
        }
    }

    /** The command fails with exit 2 and one line naming {@code flag}, and leaves every existing file as it was. */
    private MoeCliTest.Result refused(String flag, String... args) throws IOException {
        MoeCliTest.Result r = MoeCliTest.cli(args);
        assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        assertTrue(r.err().startsWith("moe: " + flag + " "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains(".tmp"), "no temporary file is named: " + r.err());
        assertUntouched();
        return r;
    }

    private String[] route(Path ids, Path weights) {
        return new String[] {"route", "--logits", logits.toString(), "--out-ids", ids.toString(), "--out-weights", weights.toString(),
            "--backend", "cpu"};
    }

    private String[] eplb(Path phy2log, String... extra) {
        List<String> a = new ArrayList<>(List.of("eplb", "--loads", loads.toString(), "--replicas", "16", "--groups", "4",
                "--nodes", "2", "--gpus", "8", "--out-phy2log", phy2log.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private String[] quantize(Path q, Path scales) {
        return new String[] {"fp8", "quantize", "--in", matrix.toString(), "--block", "1x128", "--out-q", q.toString(),
            "--out-scales", scales.toString(), "--backend", "cpu"};
    }

    private String[] layer(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("layer", "--weights", checkpoint.toString(), "--layer", "0", "--input",
                hidden.toString(), "--out", out.toString(), "--backend", "java"));
        a.addAll(List.of(LAYER_CONFIG));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private String[] simulate(Path csv, Path plot) {
        return new String[] {"simulate", "--steps", "3", "--tokens-per-step", "256", "--csv", csv.toString(), "--plot",
            plot.toString(), "--backend", "java"};
    }

    /** The repro of the report: a later output in a missing directory used to delete the existing first output. */
    @Test
    void aLaterOutputInAMissingDirectoryLeavesTheExistingFirstOutput() throws IOException {
        Path ids = existing("ids.npy");
        Path w = dir.resolve("nodir/w.npy");
        MoeCliTest.Result r = refused("--out-weights", route(ids, w));
        assertEquals("moe: --out-weights " + w + ": directory " + w.getParent() + " does not exist", r.err().strip());
    }

    @Test
    void everyCommandKeepsItsExistingOutputsWhenALaterOutputCannotBeWritten() throws IOException {
        Path missing = dir.resolve("nodir/x.npy");
        refused("--plot", simulate(existing("run.csv"), dir.resolve("nodir/run.png")));
        refused("--out-log2phy", eplb(existing("phy2log.npy"), "--out-log2phy", missing.toString()));
        refused("--out-counts", eplb(existing("phy.npy"), "--out-log2phy", existing("log2phy.npy").toString(), "--out-counts",
                missing.toString()));
        refused("--out-scales", quantize(existing("q.npy"), missing));
        refused("--out-ids", layer(existing("y.npy"), "--out-ids", missing.toString()));
        refused("--out", "fp8", "gemm", "--a", matrix.toString(), "--b", matrix.toString(), "--out", missing.toString());
    }

    @Test
    void anOutputThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
        for (Path input : List.of(logits, loads, matrix, checkpoint, hidden)) {
            before.put(input, Files.readAllBytes(input));
        }
        Path fresh = dir.resolve("fresh.npy");
        Files.createDirectory(dir.resolve("sub"));
        refused("--out-ids", route(logits, fresh));
        refused("--out-weights", route(fresh, dir.resolve("sub/../L.npy")));
        refused("--out-phy2log", eplb(loads));
        refused("--out-counts", eplb(fresh, "--out-counts", loads.toString()));
        refused("--out-q", quantize(matrix, fresh));
        refused("--out", layer(hidden));
        refused("--out", layer(checkpoint));
        refused("--out-ids", layer(fresh, "--out-ids", checkpoint.toString()));
        refused("--out", "fp8", "gemm", "--a", matrix.toString(), "--b", matrix.toString(), "--out", matrix.toString());
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), logits);
        refused("--out-weights", route(fresh, link));
        assertFalse(Files.exists(fresh));
    }

    @Test
    void twoOutputsOnOneFileAreRefused() throws IOException {
        Path one = dir.resolve("one.npy");
        refused("--out-weights", route(one, one));
        refused("--plot", simulate(one, one));
        refused("--out-log2phy", eplb(one, "--out-log2phy", one.toString()));
        refused("--out-ids", layer(one, "--out-ids", one.toString()));
        refused("--out-scales", quantize(one, dir.resolve("./one.npy")));
        assertFalse(Files.exists(one));
    }

    /** A FIFO or device is never renamed over (tested on a FIFO: a regression run as root must not hit /dev/null). */
    @Test
    void specialFilesAndDirectoriesAreNeverReplaced() throws Exception {
        Path fifo = dir.resolve("fifo.npy");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path fresh = dir.resolve("fresh.npy");
        MoeCliTest.Result r = refused("--out-ids", route(fifo, fresh));
        assertEquals("moe: --out-ids " + fifo + ": is not a regular file (a FIFO, socket or device); refusing to replace it",
                r.err().strip());
        refused("--out-weights", route(fresh, fifo));
        assertFalse(Files.isRegularFile(fifo), "still a FIFO");
        r = refused("--out-ids", route(dir, fresh));
        assertEquals("moe: --out-ids " + dir + ": is a directory", r.err().strip());
        assertFalse(Files.exists(fresh));
    }

    @Test
    void jsonAndPlotLocationsAreCheckedBeforeAnyWork() throws IOException {
        Path json = dir.resolve("nodir/out.json");
        for (String[] args : new String[][] {
            {"bench", "route", "--tokens", "16", "--backends", "java", "--seconds", "0.05", "--json", json.toString()},
            {"bench", "fp8-gemm", "--m", "1", "--n", "128", "--k", "128", "--backends", "java", "--seconds", "0.05", "--json",
                json.toString()},
            {"bench", "layer", "--tokens", "1", "--backends", "cpu", "--seconds", "0.05", "--hidden", "128", "--intermediate", "128",
                "--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "2", "--json", json.toString()},
            {"check", "--backend", "cpu", "--json", json.toString()},
            {"demo", "--tokens", "64", "--seconds", "0.05", "--sim-steps", "3", "--plot", dir.resolve("nodir/demo.png").toString()}}) {
            MoeCliTest.Result r = refused(args[0].equals("demo") ? "--plot" : "--json", args);
            assertEquals("", r.out(), "nothing ran: " + r.out());
        }
    }

    /**
     * SIGTERM while the CLI writes a large output (16 MiB, with its fsync): the JVM's shutdown hook removes
     * the temporary file and the existing output stays as it was. An attempt whose kill came only after
     * the output was renamed into place proves nothing and is repeated.
     */
    @Test
    void aKilledCommandLeavesNoTemporaryFile() throws Exception {
        Path a = dir.resolve("A.npy");
        Npy.write(a, Npy.ofFloats(SyntheticLogits.generate(2048, 128, 1f, 5), 2048, 128));
        Path c = dir.resolve("C.npy");
        for (int attempt = 0; attempt < 4; attempt++) {
            Files.writeString(c, "OLD");
            boolean seen = killWhileWriting(CliProcess.start(dir, "fp8", "gemm", "--a", a.toString(), "--b", a.toString(), "--out",
                    c.toString(), "--backend", "cpu"), ".C.npy.");
            assertTrue(seen, "the output was seen being written");
            assertUntouched();
            if (Files.readString(c, java.nio.charset.StandardCharsets.ISO_8859_1).equals("OLD")) {
                return;  // killed while the output was staged: nothing left behind, the old file intact
            }
        }
        throw new AssertionError("every kill came after the output was complete; nothing was tested");
    }

    /** Waits until a temporary file {@code prefix*.tmp} appears in the directory, sends SIGTERM, waits for the exit. */
    private boolean killWhileWriting(Process p, String prefix) throws Exception {
        boolean seen = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!seen && p.isAlive() && System.nanoTime() < deadline) {
                try (Stream<Path> files = Files.list(dir)) {
                    seen = files.anyMatch(f -> f.getFileName().toString().startsWith(prefix) && f.toString().endsWith(".tmp"));
                }
                Thread.sleep(0, 200_000);  // the child needs the cores more than this loop
            }
            p.destroy();  // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        return seen;
    }
}
