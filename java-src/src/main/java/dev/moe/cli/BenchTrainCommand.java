package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.dist.SelfCommunicator;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;
import dev.moe.backend.MachinePeaks;
import dev.moe.routing.Routers;
import dev.moe.sim.BalancerKind;
import dev.moe.train.Corpus;
import dev.moe.train.Elementwise;
import dev.moe.train.Gemm;
import dev.moe.train.Gemms;
import dev.moe.train.Precision;
import dev.moe.train.StepTimer;
import dev.moe.train.TrainSettings;
import dev.moe.train.Trainer;
import dev.moe.train.TransformerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code moe bench train}: whole training steps (forward, backward, AdamW, the loss-free bias) on random
 * bytes, per backend: tokens/s, the model's FLOPs per second against this machine's FP32 FMA peak
 * measured in the same run, and where the time goes.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time whole training steps of the byte-level MoE transformer on each backend and write JSON.",
                "Reports tokens/s, model GFLOP/s (6 x active parameters + causal attention per token) as a fraction of "
                        + "the FP32 FMA peak measured in the same run, the share of the step in the GEMMs and the time "
                        + "per part of the step."})
final class BenchTrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "6", description = "Measured steps per backend, after --warmup-steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "2", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp8",
            description = "The projections' GEMM precision (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--backends", paramLabel = "java,cpu", split = ",",
            description = "Backends to time (default: cpu where usable, else java).")
    List<String> backends;

    @Option(names = "--json", required = true, paramLabel = "out.json", description = "Where to write the results.")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (steps < 1 || steps > 10_000 || warmupSteps < 0 || warmupSteps > 10_000) {
            throw new UsageException("--steps must be in 1..10000 and --warmup-steps in 0..10000, got " + steps + ", "
                    + warmupSteps);
        }
        TransformerConfig c = model.toConfig();
        MemoryBudget.of("bench train --dim " + c.dim() + " --layers " + c.layers() + " --seq " + c.seqLen() + " --batch " + batch)
                .training(c, batch).require();
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        // One step more than is run, so that no measured step is the run's last (which evaluates).
        TrainSettings settings = new TrainSettings(c, batch, warmupSteps + steps + 1, 1e-3, 1, 1, Integer.MAX_VALUE,
                BalancerKind.LOSS_FREE, 1e-3f, 0, TrainSettings.DEFAULT_WEIGHT_DECAY, TrainSettings.DEFAULT_CLIP_NORM,
                Precision.parse(precision));
        List<Backend> chosen = BenchRouteCommand.chosen(backends, Backend.CPU);
        if (chosen.isEmpty()) {
            chosen = List.of(Backend.JAVA);
        }
        for (Backend b : chosen) {
            if (b != Backend.JAVA && b != Backend.CPU) {
                throw new UsageException("--backends: training runs on java or cpu, got " + b.cliName());
            }
            BackendStatus st = Backends.status(b);
            if (!st.usable()) {
                throw new BackendUnavailableException(b, st.detail());
            }
        }
        Corpus data = new Corpus(randomBytes(Math.max(1 << 20, 40 * (c.seqLen() + 1)), 7), 0.05, c.seqLen());
        double peak = chosen.contains(Backend.CPU) || Backends.status(Backend.CPU).usable()
                ? MachinePeaks.measure(0.5, 64L << 20).fmaGflops()
                : Double.NaN;
        double flopsPerToken = modelFlopsPerToken(c);
        List<Map<String, Object>> results = new ArrayList<>();
        for (Backend b : chosen) {
            results.add(measure(b, settings, data, flopsPerToken, peak));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("machine", MachineInfo.describe());
        doc.put("benchmark", "train");
        doc.put("settings", settings.asFlags());
        doc.put("parameters", c.parameterCount());
        doc.put("model_flops_per_token", flopsPerToken);
        doc.put("fma_peak_gflops", peak);
        doc.put("results", results);
        outputs.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        outputs.commit();
        printTable(settings, results, peak);
        return 0;
    }

    /**
     * Training FLOPs per token: 3 × (2 × the multiply-adds of one forward), the forward's multiply-adds
     * being the active matrix parameters plus causal attention's (S+1)·d per layer (q·k and p·v over
     * (S+1)/2 keys on average).
     */
    static double modelFlopsPerToken(TransformerConfig c) {
        double forwardMacs = c.activeMatrixParameters() + (double) c.layers() * (c.seqLen() + 1) * c.dim();
        return 6 * forwardMacs;
    }

    private Map<String, Object> measure(Backend b, TrainSettings s, Corpus data, double flopsPerToken, double peak) {
        TimedGemm gemm = new TimedGemm(Gemms.create(b));
        Trainer t = new Trainer(s, data, new SelfCommunicator(), gemm, Routers.create(s.model().routing(), b));
        for (int i = 0; i < warmupSteps; i++) {
            t.nextStep();
        }
        StepTimer timer = new StepTimer();
        t.setTimer(timer);
        gemm.reset();
        int measured = steps;
        double[] times = new double[measured];
        for (int i = 0; i < measured; i++) {
            long t0 = System.nanoTime();
            t.nextStep();
            times[i] = (System.nanoTime() - t0) / 1e9;
        }
        double total = Arrays.stream(times).sum();
        Arrays.sort(times);
        double median = Timing.median(times);
        double tokensPerS = s.tokensPerStep() / median;
        double gflops = flopsPerToken * tokensPerS / 1e9;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("backend", b.cliName());
        row.put("median_step_s", median);
        row.put("min_step_s", times[0]);
        row.put("steps", measured);
        row.put("tokens_per_s", tokensPerS);
        row.put("gflops", gflops);
        row.put("fraction_of_peak", gflops / peak);
        row.put("gemm_share", gemm.seconds() / total);
        row.put("gemm_gflops", gemm.flops() / gemm.seconds() / 1e9);
        Map<String, Double> parts = new LinkedHashMap<>();
        timer.seconds().forEach((p, sec) -> parts.put(p.name().toLowerCase(java.util.Locale.ROOT), sec / measured));
        row.put("seconds_per_step_by_part", parts);
        return row;
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private void printTable(TrainSettings s, List<Map<String, Object>> results, double peak) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("train step: %s; FP32 FMA peak %.1f GFLOP/s%n", s, peak);
        out.printf("%-8s %12s %12s %10s %9s %9s%n", "backend", "step ms", "tokens/s", "GFLOP/s", "of peak", "in GEMM");
        for (Map<String, Object> r : results) {
            out.printf("%-8s %12.1f %,12.0f %10.1f %8.1f%% %8.1f%%%n", r.get("backend"), (Double) r.get("median_step_s") * 1e3,
                    (Double) r.get("tokens_per_s"), (Double) r.get("gflops"), 100 * (Double) r.get("fraction_of_peak"),
                    100 * (Double) r.get("gemm_share"));
            @SuppressWarnings("unchecked")
            Map<String, Double> parts = (Map<String, Double>) r.get("seconds_per_step_by_part");
            StringBuilder sb = new StringBuilder("         time per step:");
            parts.forEach((p, sec) -> sb.append(String.format(java.util.Locale.ROOT, " %s %.1f ms,", p, sec * 1e3)));
            out.println(sb.substring(0, sb.length() - 1));
        }
        out.printf("written: %s%n", json);
        out.flush();
    }

    /** A {@link Gemm} that counts the time and FLOPs of every product it forwards, and runs beside its inner GEMM's element-wise kernels. */
    static final class TimedGemm implements Gemm {
        private final Gemm inner;
        private long nanos;
        private double flops;

        TimedGemm(Gemm inner) {
            this.inner = inner;
        }

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                         int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            long t0 = System.nanoTime();
            inner.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            nanos += System.nanoTime() - t0;
            flops += 2.0 * m * n * k;
        }

        /** Passes the whole batch on: the inner GEMM may run its entries in parallel in one call. */
        @Override
        public void gemmBatched(boolean transA, boolean transB, long[] dims, long[] offsets, float[] a, int lda,
                                float[] b, int ldb, float beta, float[] c, int ldc) {
            long t0 = System.nanoTime();
            inner.gemmBatched(transA, transB, dims, offsets, a, lda, b, ldb, beta, c, ldc);
            nanos += System.nanoTime() - t0;
            for (int i = 0; i < dims.length / 3; i++) {
                flops += 2.0 * dims[3 * i] * dims[3 * i + 1] * dims[3 * i + 2];
            }
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Elementwise elementwise() {
            return inner.elementwise();
        }

        void reset() {
            nanos = 0;
            flops = 0;
        }

        double seconds() {
            return nanos / 1e9;
        }

        double flops() {
            return flops;
        }
    }
}
