package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.SyntheticLogits;

/** The CLI against docs/cli.md: outputs, exit codes, one-line errors, no partial files. */
class MoeCliTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MoeCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    private Path logits(String name, int t, int n, long seed) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, Npy.ofFloats(SyntheticLogits.generate(t, n, 1.0f, seed), t, n));
        return p;
    }

    private Result route(Path logits, String backend, String... extra) {
        List<String> args = new ArrayList<>(List.of("route", "--logits", logits.toString(), "--out-ids",
                dir.resolve("ids-" + backend + ".npy").toString(), "--out-weights", dir.resolve("w-" + backend + ".npy").toString(),
                "--backend", backend));
        args.addAll(List.of(extra));
        return cli(args.toArray(String[]::new));
    }

    private NpyArray read(String name) throws IOException {
        return Npy.read(dir.resolve(name), Arena.ofAuto());
    }

    @Test
    void routeMatchesTheLibraryOnBothBackendsAndBothPresets() throws IOException {
        for (String preset : List.of("deepseek-v3", "deepseek-v2")) {
            RoutingConfig c = RoutingConfig.preset(preset);
            Path z = logits(preset + ".npy", 33, c.numExperts(), 4);
            RoutingResult expected = Routers.reference(c).route(SyntheticLogits.generate(33, c.numExperts(), 1.0f, 4), null);
            for (String backend : List.of("java", "cpu")) {
                Result r = route(z, backend, "--preset", preset);
                assertEquals(0, r.code(), r.err());
                NpyArray ids = read("ids-" + backend + ".npy");
                NpyArray w = read("w-" + backend + ".npy");
                assertEquals(NpyDType.INT32, ids.dtype());
                assertEquals(NpyDType.FLOAT32, w.dtype());
                assertArrayEquals(new long[] {33, c.topk()}, ids.shape());
                assertArrayEquals(new long[] {33, c.topk()}, w.shape());
                assertArrayEquals(expected.ids(), ids.toIntArray(), preset + " " + backend);
                assertArrayEquals(expected.weights(), w.toFloatArray(), preset + " " + backend);
            }
        }
    }

    @Test
    void customFlagsOverrideThePreset() throws IOException {
        Path z = logits("custom.npy", 10, 64, 8);
        Path b = dir.resolve("bias.npy");
        float[] bias = new float[64];
        bias[5] = 0.5f;
        Npy.write(b, Npy.ofFloats(bias, 64));
        Result r = route(z, "cpu", "--preset", "deepseek-v2", "--experts", "64", "--groups", "8", "--topk-groups", "2",
                "--topk", "4", "--score", "sigmoid", "--group-score", "top2sum", "--scale", "1.5", "--normalize", "true",
                "--bias", b.toString());
        assertEquals(0, r.code(), r.err());
        RoutingConfig c = RoutingConfig.builder().experts(64).groups(8).topkGroups(2).topk(4).groupTopJ(2).routeScale(1.5f).build();
        RoutingResult expected = Routers.reference(c).route(SyntheticLogits.generate(10, 64, 1.0f, 8), bias);
        assertArrayEquals(expected.ids(), read("ids-cpu.npy").toIntArray());
        assertArrayEquals(expected.weights(), read("w-cpu.npy").toFloatArray());
    }

    @Test
    void nonFiniteLogitsExitTwoNamingTheRowAndWriteNothing() throws IOException {
        float[] data = SyntheticLogits.generate(6, 256, 1.0f, 1);
        data[4 * 256 + 9] = Float.NaN;
        Path z = dir.resolve("nan.npy");
        Npy.write(z, Npy.ofFloats(data, 6, 256));
        for (String backend : List.of("java", "cpu")) {
            Result r = route(z, backend);
            assertEquals(2, r.code());
            assertTrue(r.err().contains("row 4"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertNoOutputs();
    }

    @Test
    void badInputsExitTwoWithOneLineAndNoOutput() throws IOException {
        Path wrongN = logits("wrong-n.npy", 4, 100, 1);
        Path garbage = dir.resolve("garbage.npy");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Path truncated = dir.resolve("truncated.npy");
        byte[] full = Files.readAllBytes(logits("full.npy", 4, 256, 1));
        Files.write(truncated, java.util.Arrays.copyOf(full, full.length - 100));
        Path ok = logits("ok.npy", 4, 256, 1);
        List<Result> results = List.of(
                route(wrongN, "cpu"),
                route(garbage, "java"),
                route(truncated, "cpu"),
                route(dir.resolve("missing.npy"), "cpu"),
                route(ok, "cpu", "--experts", "10", "--groups", "4"),
                route(ok, "cpu", "--topk-groups", "9"),
                route(ok, "cpu", "--experts", "16", "--groups", "8", "--topk-groups", "1", "--topk", "3"),
                route(ok, "nonsense"),
                route(ok, "cuda"),
                route(ok, "cpu", "--normalize", "maybe"),
                route(ok, "cpu", "--preset", "gpt"),
                cli("route", "--logits", ok.toString()));
        for (Result r : results) {
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().startsWith("moe: "), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertTrue(results.get(0).err().contains("[T, 256]"), results.get(0).err());
        assertTrue(results.get(8).err().contains("cuda"), results.get(8).err());
        assertNoOutputs();
    }

    @Test
    void versionListsBackendsWithReasons() {
        Result r = cli("version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("C ABI version"), r.out());
        assertTrue(r.out().contains("backend java  usable"), r.out());
        assertTrue(r.out().contains("backend cpu   usable"), r.out());
        assertTrue(r.out().contains("backend cuda"), r.out());
    }

    @Test
    void helpEverywhere() {
        for (String[] args : new String[][] {{"--help"}, {"route", "--help"}, {"demo", "--help"}, {"bench", "route", "--help"},
                {"version", "--help"}}) {
            Result r = cli(args);
            assertEquals(0, r.code());
            assertTrue(r.out().contains("Usage:"), String.join(" ", args));
        }
    }

    @Test
    void demoAgreesAndReportsLoad() throws IOException {
        Result r = cli("demo", "--tokens", "256", "--seconds", "0.05", "--sim-steps", "30", "--plot", dir.resolve("demo.png").toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("loss-free MaxVio_batch"), r.out());
        assertTrue(Files.size(dir.resolve("demo.png")) > 1000);
        assertTrue(r.out().contains("agree"), r.out());
        assertTrue(r.out().contains("load per expert group = node"), r.out());
        assertTrue(r.out().contains("tokens/s"), r.out());
    }

    @Test
    void benchRouteWritesJson() throws IOException {
        Path json = dir.resolve("bench.json");
        Result r = cli("bench", "route", "--preset", "deepseek-v3", "--tokens", "16", "--backends", "java,cpu",
                "--seconds", "0.05", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertTrue(tree.has("machine"));
        assertEquals(2, tree.get("results").size());
        assertEquals("cpu", tree.get("results").get(1).get("backend").asText());
        assertTrue(tree.get("results").get(1).get("tokens_per_s").asDouble() > 0);
        // The read floor, measured in the same run: 16 tokens x 256 logits x 4 bytes at read_gbs.
        double readGbs = tree.get("read_gbs").asDouble();
        assertTrue(readGbs > 0, tree.toString());
        assertEquals(16 * 256 * 4, tree.get("logits_bytes").asDouble());
        for (var row : tree.get("results")) {
            double want = 16 * 256 * 4 / (readGbs * 1e9) / row.get("median_s").asDouble();
            assertEquals(want, row.get("fraction_of_read_floor").asDouble(), 1e-9 * want, row.toString());
        }
        assertTrue(r.out().contains("read floor") && r.out().contains("of floor"), r.out());
        Result bad = cli("bench", "route", "--tokens", "16", "--backends", "cuda", "--json", dir.resolve("x.json").toString());
        assertEquals(2, bad.code());
        assertFalse(Files.exists(dir.resolve("x.json")));
    }

    @Test
    void simulateWritesCsvAndPlot() throws IOException {
        Path csv = dir.resolve("run.csv");
        Path png = dir.resolve("run.png");
        Result r = cli("simulate", "--steps", "20", "--tokens-per-step", "256", "--workload", "drift", "--csv", csv.toString(),
                "--plot", png.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(21, lines.size());
        assertTrue(lines.get(0).startsWith("step,maxvio_batch,dropped,cross_node_sends,mean_nodes_per_token"), lines.get(0));
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        assertTrue(r.out().contains("MaxVio_global"), r.out());
        Result java = cli("simulate", "--steps", "20", "--tokens-per-step", "256", "--workload", "drift", "--csv",
                dir.resolve("java.csv").toString(), "--backend", "java");
        assertEquals(0, java.code(), java.err());
        assertArrayEquals(Files.readAllBytes(csv), Files.readAllBytes(dir.resolve("java.csv")), "byte-identical CSV");
        for (String[] bad : new String[][] {{"--workload", "zipf"}, {"--balancer", "magic"}, {"--nodes", "3"}, {"--node-limit", "9"},
                {"--update", "additive"}, {"--steps", "0"}, {"--capacity-factor", "1.5"}, {"--limit", "rack"},
                {"--balancer", "aux-loss", "--aux-lr", "-1"}}) {
            List<String> args = new ArrayList<>(List.of("simulate", "--csv", dir.resolve("bad.csv").toString()));
            args.addAll(List.of(bad));
            Result b = cli(args.toArray(String[]::new));
            assertEquals(2, b.code(), String.join(" ", bad) + ": " + b.err());
            assertFalse(Files.exists(dir.resolve("bad.csv")));
        }
    }

    @Test
    void simulateAuxLossAndV2DroppingRuns() throws IOException {
        Path csv = dir.resolve("aux.csv");
        Result aux = cli("simulate", "--steps", "5", "--tokens-per-step", "256", "--balancer", "aux-loss", "--alpha", "0.01",
                "--csv", csv.toString(), "--backend", "cpu");
        assertEquals(0, aux.code(), aux.err());
        assertTrue(aux.out().contains("injected gradient norm"), aux.out());
        String last = Files.readAllLines(csv).getLast();
        assertTrue(Double.parseDouble(last.substring(last.lastIndexOf(',') + 1)) > 0, last);
        Path v2 = dir.resolve("v2.csv");
        Result drop = cli("simulate", "--preset", "deepseek-v2", "--steps", "3", "--tokens-per-step", "512", "--balancer", "none",
                "--csv", v2.toString(), "--backend", "cpu");
        assertEquals(0, drop.code(), drop.err());
        long dropped = Files.readAllLines(v2).stream().skip(1).mapToLong(l -> Long.parseLong(l.split(",")[2])).sum();
        assertTrue(dropped > 0, "deepseek-v2 drops at capacity factor 1.0 by default");
        Result device = cli("simulate", "--steps", "3", "--tokens-per-step", "256", "--limit", "device", "--csv",
                dir.resolve("dev.csv").toString(), "--backend", "cpu");
        assertEquals(0, device.code(), device.err());
        assertTrue(Files.readAllLines(dir.resolve("dev.csv")).stream().skip(1)
                .allMatch(l -> Integer.parseInt(l.split(",")[5]) <= 3), "3 devices reach at most 3 nodes");
    }

    @Test
    void soakReportsNativeAndResidentMemory() {
        Result r = cli("soak", "--seconds", "1.5", "--threads", "2", "--max-growth-mib", "256");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)soak: [1-9]\\d* calls .* growth after warm-up .*VmRSS start .*\\n"), r.out());
        assertEquals(2, cli("soak", "--seconds", "0").code());
    }

    @Test
    void eplbWritesTheReadmeExample() throws IOException {
        Path w = dir.resolve("loads.npy");
        float[] loads = {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86, 20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27};
        Npy.write(w, Npy.ofFloats(loads, 2, 12));
        Path o = dir.resolve("phy2log.npy");
        Path x = dir.resolve("log2phy.npy");
        Path c = dir.resolve("counts.npy");
        Result r = cli("eplb", "--loads", w.toString(), "--replicas", "16", "--groups", "4", "--nodes", "2", "--gpus", "8",
                "--out-phy2log", o.toString(), "--out-log2phy", x.toString(), "--out-counts", c.toString());
        assertEquals(0, r.code(), r.err());
        NpyArray phy = read("phy2log.npy");
        assertEquals(NpyDType.INT32, phy.dtype());
        assertArrayEquals(new int[] {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1, 7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1},
                phy.toIntArray());
        assertArrayEquals(new long[] {2, 12, 5}, read("log2phy.npy").shape());
        assertArrayEquals(new long[] {2, 12}, read("counts.npy").shape());
        assertTrue(r.out().contains("hierarchical"), r.out());
        Path bad = dir.resolve("bad.npy");
        Result b = cli("eplb", "--loads", w.toString(), "--replicas", "15", "--groups", "4", "--nodes", "2", "--gpus", "8",
                "--out-phy2log", bad.toString());
        assertEquals(2, b.code());
        assertTrue(b.err().contains("R=15"), b.err());
        assertFalse(Files.exists(bad));
    }

    private void assertNoOutputs() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("ids-") || n.startsWith("w-")
                    || n.endsWith(".tmp")).toList();
            assertEquals(List.of(), names);
        }
    }
}
