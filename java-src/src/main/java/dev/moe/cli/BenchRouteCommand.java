package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;
import dev.moe.backend.MachinePeaks;
import dev.moe.io.OutputFiles;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.SyntheticLogits;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code moe bench route}: gate throughput of each backend on the same generated logits, and each
 * result as a fraction of the read floor (the logits streamed once at the read bandwidth measured in
 * the same run).
 */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = "Time routing of T generated tokens on each backend (warm-up first) and write JSON.")
final class BenchRouteCommand implements Callable<Integer> {
    /** Bytes the read-bandwidth probe streams, far beyond any last-level cache. */
    static final long READ_PROBE_BYTES = 512L << 20;

    @Mixin
    RoutingOptions routing;

    @Option(names = "--tokens", required = true, paramLabel = "T", description = "Tokens per call.")
    int tokens;

    @Option(names = "--backends", paramLabel = "java,cpu,cuda", split = ",",
            description = "Backends to time (default: every usable one). A named backend that is unusable is an error.")
    List<String> backends;

    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S",
            description = "Time per backend, at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic logits (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", required = true, paramLabel = "out.json", description = "Where to write the results.")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (tokens < 0) {
            throw new UsageException("--tokens must be >= 0, got " + tokens);
        }
        FlagChecks.seconds(seconds);
        RoutingConfig c = routing.toConfig();
        MemoryBudget.of("bench route --tokens " + tokens).offHeap(tokens, c.numExperts() + 2L * c.topk(), 4).require();
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        List<Backend> chosen = chosenBackends();
        List<Router> routers = new ArrayList<>();
        for (Backend b : chosen) {
            routers.add(Routers.create(c, b));  // fails before any timing if a named backend is unusable
        }
        double logitBytes = 4.0 * tokens * c.numExperts();
        List<Map<String, Object>> results = new ArrayList<>();
        Double readGbs;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment logits = SyntheticLogits.generate(arena, tokens, c.numExperts(), 0.5f, seed);
            long tk = (long) tokens * c.topk();
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, tk)).asSlice(0, 4 * tk);
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, tk)).asSlice(0, 4 * tk);
            Double javaMedian = null;
            for (Router r : routers) {
                double[] t = Timing.measure(() -> r.route(logits, tokens, null, ids, w, null), seconds);
                double median = Timing.median(t);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("backend", r.backend().cliName());
                row.put("median_s", median);
                row.put("min_s", t[0]);
                row.put("runs", t.length);
                row.put("tokens_per_s", tokens / median);
                if (r.backend() == Backend.JAVA) {
                    javaMedian = median;
                }
                results.add(row);
            }
            if (chosen.contains(Backend.CUDA)) {
                results.add(cudaKernelRow(c, logits));
            }
            // The read floor: the time to stream the logits once at this machine's read bandwidth, measured
            // after the timings (at the start the JVM's compiler threads still compete for the cores and the
            // probe reads low); it needs the native library, without which the rows carry no fraction.
            readGbs = Backends.status(Backend.CPU).usable()
                    ? MachinePeaks.measure(Math.min(1.0, seconds), READ_PROBE_BYTES).readGbs() : null;
            for (Map<String, Object> row : results) {
                if (javaMedian != null) {
                    row.put("speedup_vs_java", javaMedian / (Double) row.get("median_s"));
                }
                if (readGbs != null) {
                    row.put("fraction_of_read_floor", readFloorFraction(logitBytes, readGbs, (Double) row.get("median_s")));
                }
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("machine", MachineInfo.describe());
        doc.put("benchmark", "route");
        doc.put("config", c.toString());
        doc.put("tokens", tokens);
        if (readGbs != null) {
            doc.put("read_gbs", readGbs);
            doc.put("logits_bytes", logitBytes);
            doc.put("read_floor_s", logitBytes / (readGbs * 1e9));
        }
        doc.put("results", results);
        byte[] bytes = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc);
        outputs.write(json, bytes);
        outputs.commit();
        printTable(results, readGbs, logitBytes);
        return 0;
    }

    /**
     * (bytes of logits ÷ read bandwidth) ÷ median time: 1 would be a gate as fast as reading its input
     * once from memory.
     */
    static double readFloorFraction(double logitBytes, double readGbs, double medianSeconds) {
        return logitBytes / (readGbs * 1e9) / medianSeconds;
    }

    /**
     * "cuda-kernel": the gate alone on device-resident logits, {@value CudaGateRun#REPS} calls per CUDA graph
     * replay (the "cuda" row is the router API, host copies and allocations included).
     */
    private Map<String, Object> cudaKernelRow(RoutingConfig c, MemorySegment logits) {
        double[] t;
        try (CudaGateRun run = new CudaGateRun(c, logits, tokens)) {
            t = Timing.measure(run::run, seconds);
        }
        double median = Timing.median(t) / CudaGateRun.REPS;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("backend", "cuda-kernel");
        row.put("device", CudaGemmRun.deviceName());
        row.put("median_s", median);
        row.put("min_s", t[0] / CudaGateRun.REPS);
        row.put("runs", t.length * CudaGateRun.REPS);
        row.put("tokens_per_s", tokens / median);
        row.put("cuda_graph", true);
        return row;
    }

    private List<Backend> chosenBackends() {
        return chosen(backends, Backend.JAVA, Backend.CPU, Backend.CUDA);
    }

    /**
     * The backends a bench command times: the named ones in order ({@code auto} resolved, duplicates
     * dropped), or when none is named every usable one of {@code candidates}.
     */
    static List<Backend> chosen(List<String> named, Backend... candidates) {
        List<Backend> out = new ArrayList<>();
        if (named == null || named.isEmpty()) {
            for (Backend b : candidates) {
                if (Backends.status(b).usable()) {
                    out.add(b);
                }
            }
            return out;
        }
        for (String name : named) {
            Backend b = Backend.parse(name);
            if (b == Backend.AUTO) {
                b = Routers.resolveAuto();
            }
            if (!out.contains(b)) {
                out.add(b);
            }
        }
        return out;
    }

    private void printTable(List<Map<String, Object>> results, Double readGbs, double logitBytes) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("route, %d tokens, %s%n", tokens, routing.toConfig());
        if (readGbs != null) {
            out.printf("read floor: %.1f MiB of logits at %.1f GB/s (measured now) = %.4f ms%n", logitBytes / (1 << 20), readGbs,
                    logitBytes / (readGbs * 1e9) * 1e3);
        }
        out.printf("%-11s %12s %16s %10s %10s%n", "backend", "median ms", "tokens/s", "vs java", "of floor");
        for (Map<String, Object> r : results) {
            Object sp = r.get("speedup_vs_java");
            Object fl = r.get("fraction_of_read_floor");
            out.printf("%-11s %12.4f %,16.0f %10s %10s%n", r.get("backend"), (Double) r.get("median_s") * 1e3,
                    (Double) r.get("tokens_per_s"), sp == null ? "-" : String.format("%.1fx", (Double) sp),
                    fl == null ? "-" : String.format("%.1f%%", 100 * (Double) fl));
        }
        out.printf("written: %s%n", json);
        out.flush();
    }
}
