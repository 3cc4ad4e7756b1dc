package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;
import dev.moe.io.AtomicFiles;
import dev.moe.io.OutputFiles;
import dev.moe.layer.CudaMoeLayer;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.routing.RoutingConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code moe bench layer}: one MoE layer forward (logits, gate, FP8 experts, combine) per backend and
 * batch size on the same synthetic layer; cuda is the GPU-resident layer ({@link CudaMoeLayer}), timed
 * from host input to host output, with CUDA graphs for small batches. When java (the reference) is
 * timed, every row carries its speedup over it and {@code "slower_than_reference"}, and the table
 * marks the rows slower than the reference.
 */
@Command(name = "layer", mixinStandardHelpOptions = true,
        description = {"Time one MoE layer forward on each backend for each batch size and write JSON.",
                "cuda runs the GPU-resident layer (copies in and out included; CUDA graphs up to --graph-max-tokens)."})
final class BenchLayerCommand implements Callable<Integer> {
    @Mixin
    RoutingOptions routing;

    @Option(names = "--hidden", defaultValue = "1024", paramLabel = "H", description = "Model dimension (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "256", paramLabel = "I",
            description = "Routed expert width, a multiple of 128 (default ${DEFAULT-VALUE}).")
    int intermediate;

    @Option(names = "--shared", description = "Add a shared expert of width I.")
    boolean shared;

    @Option(names = "--tokens", defaultValue = "1,16,128,1024", split = ",", paramLabel = "T,...",
            description = "Batch sizes (default ${DEFAULT-VALUE}).")
    List<Integer> tokens;

    @Option(names = "--backends", paramLabel = "java,cpu,cuda", split = ",",
            description = "Backends to time (default: cpu and cuda where usable). A named backend that is unusable is an error.")
    List<String> backends;

    @Option(names = "--graph-max-tokens", defaultValue = "256", paramLabel = "T",
            description = "Largest batch run as a CUDA graph (default ${DEFAULT-VALUE}; 0: never).")
    int graphMaxTokens;

    @Option(names = "--tensor-cores", description = "Also time cuda with the tensor-core GEMMs (reported as \"cuda-tc\").")
    boolean tensorCores;

    @Option(names = "--seconds", defaultValue = "1", paramLabel = "S",
            description = "Time per backend and size, at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", required = true, paramLabel = "out.json", description = "Where to write the results.")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (hidden < 1 || intermediate < 128 || intermediate % 128 != 0 || graphMaxTokens < 0) {
            throw new UsageException("--hidden must be >= 1, --intermediate a positive multiple of 128 and "
                    + "--graph-max-tokens >= 0; got " + hidden + ", " + intermediate + ", " + graphMaxTokens);
        }
        FlagChecks.seconds(seconds);
        for (int t : tokens) {
            if (t < 1 || (long) t * hidden > Integer.MAX_VALUE / 2) {
                throw new UsageException("--tokens: " + t + " is not a usable batch size for H = " + hidden);
            }
        }
        List<Backend> chosen = BenchRouteCommand.chosen(backends, Backend.CPU, Backend.CUDA);
        for (Backend b : chosen) {
            BackendStatus st = Backends.status(b);
            if (!st.usable()) {
                throw new BackendUnavailableException(b, st.detail());
            }
        }
        RoutingConfig config = routing.toConfig();
        layerBudget(config).require();
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        MoeLayerWeights w = MoeLayerWeights.synthetic(config, hidden, intermediate, shared, 1);
        List<Map<String, Object>> results = new ArrayList<>();
        for (int t : tokens) {
            float[] x = input(t);
            Double cpuSeconds = null;
            Double javaSeconds = null;
            for (Backend b : chosen) {
                for (boolean tc : b == Backend.CUDA && tensorCores ? new boolean[] {false, true} : new boolean[] {false}) {
                    double[] times;
                    String kernel = null;
                    if (b == Backend.CUDA) {
                        try (CudaMoeLayer gpu = CudaMoeLayer.create(w, 0, graphMaxTokens, tc)) {
                            times = Timing.measure(() -> gpu.forward(x, t), seconds);
                            kernel = gpu.gemmKernel().label();
                        }
                    } else {
                        MoeLayer layer = MoeLayer.create(w, b);
                        times = Timing.measure(() -> layer.forward(x, t), seconds);
                    }
                    double median = Timing.median(times);
                    cpuSeconds = b == Backend.CPU ? Double.valueOf(median) : cpuSeconds;
                    javaSeconds = b == Backend.JAVA ? Double.valueOf(median) : javaSeconds;
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("backend", tc ? "cuda-tc" : b.cliName());
                    if (kernel != null) {
                        row.put("gemm_kernel", kernel);
                    }
                    row.put("tokens", t);
                    row.put("median_s", median);
                    row.put("min_s", times[0]);
                    row.put("runs", times.length);
                    row.put("tokens_per_s", t / median);
                    row.put("cuda_graph", b == Backend.CUDA && t <= graphMaxTokens);
                    results.add(row);
                }
            }
            for (Map<String, Object> row : results) {
                if (row.get("tokens").equals(t)) {
                    if (cpuSeconds != null) {
                        row.put("speedup_vs_cpu", cpuSeconds / (Double) row.get("median_s"));
                    }
                    if (javaSeconds != null) {
                        double speedup = javaSeconds / (Double) row.get("median_s");
                        row.put("speedup_vs_java", speedup);
                        row.put("slower_than_reference", speedup < 1.0);
                    }
                }
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("machine", MachineInfo.describe());
        doc.put("benchmark", "layer");
        doc.put("config", config.toString());
        doc.put("hidden", hidden);
        doc.put("intermediate", intermediate);
        doc.put("shared_expert", shared);
        if (chosen.contains(Backend.CUDA)) {
            doc.put("device", CudaGemmRun.deviceName());
        }
        doc.put("results", results);
        outputs.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        outputs.commit();
        printTable(config, results);
        return 0;
    }

    /** The synthetic layer (FP8 codes, and each expert's FP32 draw while it is quantised) and the largest batch's work. */
    private MemoryBudget layerBudget(RoutingConfig config) {
        long experts = config.numExperts() + (shared ? 1L : 0L);
        if (MemoryBudget.product(3, intermediate, hidden) > NpyInputs.MAX_ARRAY
                || MemoryBudget.product(config.numExperts(), hidden) > NpyInputs.MAX_ARRAY) {
            throw new UsageException("--hidden " + hidden + " and --intermediate " + intermediate + " are too large for one expert's "
                    + "weights in a Java array");
        }
        int t = tokens.stream().mapToInt(Integer::intValue).max().orElse(0);
        return MemoryBudget.of("bench layer with " + experts + " experts, H " + hidden + ", I " + intermediate + " on " + t + " tokens")
                .heap(experts, 3L * intermediate, hidden, 2).heap(Runtime.getRuntime().availableProcessors(), 3L * intermediate,
                        hidden, 4)
                .heap(t, config.topk(), hidden, 4 + 1 + 4).heap(t, config.topk(), intermediate, 4 * 2 + 4 + 1);
    }

    private float[] input(int t) {
        SplittableRandom rnd = new SplittableRandom(t);
        float[] x = new float[t * hidden];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private void printTable(RoutingConfig config, List<Map<String, Object>> results) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("layer: %s, H %d, I %d%s%n", config, hidden, intermediate, shared ? ", shared expert" : "");
        out.printf("%-8s %8s %12s %14s %10s %10s%n", "backend", "tokens", "median ms", "tokens/s", "vs cpu", "vs java");
        for (Map<String, Object> r : results) {
            Object sp = r.get("speedup_vs_cpu");
            Object sj = r.get("speedup_vs_java");
            out.printf("%-8s %8d %12.3f %,14.0f %10s %10s%s%n", r.get("backend"), (Integer) r.get("tokens"), (Double) r.get("median_s") * 1e3,
                    (Double) r.get("tokens_per_s"), sp == null ? "-" : String.format("%.2fx", (Double) sp),
                    sj == null ? "-" : String.format("%.2fx", (Double) sj),
                    Boolean.TRUE.equals(r.get("slower_than_reference")) ? "  SLOWER than the java reference" : "");
        }
        out.printf("written: %s%n", json);
        out.flush();
    }
}
