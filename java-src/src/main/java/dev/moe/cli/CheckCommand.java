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
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;
import dev.moe.cuda.CudaDevice;
import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.io.OutputFiles;
import dev.moe.layer.CudaMoeLayer;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.ScoreFunction;
import dev.moe.routing.SyntheticLogits;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe check}: the native kernels of one backend against the pure-Java reference on seeded random
 * data and hand-made edge cases, from the release jar alone (no test jars): routing ids, weights and
 * loads identical; FP8 codes and scales identical; the exact CUDA GEMMs and the CUDA layers identical;
 * the cpu GEMMs within 2·10⁻⁵·Σ|a||b| per element (their own order inside a 128-chunk) and the cpu layer
 * within 10⁻⁵ of max |y|; each tensor-core GEMM kernel the GPU runs within 2⁻¹⁰·Σ|a||b| and the
 * tensor-core layer within 1 % of max |y|; on cpu also training's kernels ({@link TrainingKernelChecks}).
 * Exit 0 when every check passes, 1 otherwise.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Validate a backend's kernels against the pure-Java reference: routing (V3, V2, custom configs, ties, "
                + "extreme logits, an empty batch), FP8 quantisation (both tile shapes, power-of-two scales, partial tiles), "
                + "FP8 GEMMs (dense, grouped contiguous and masked; every tensor-core kernel on cuda), the MoE layer and, on cpu, "
                + "training's FP32 GEMM, SwiGLU and causal softmax. "
                + "Prints one line per check; exit 1 if any fails."})
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", defaultValue = "auto",
            description = "Backend to validate (default ${DEFAULT-VALUE}: cuda if a GPU is usable, else cpu).")
    String backend;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random data (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    /** One check's outcome. */
    record Result(String check, String detail, boolean pass) {}

    /** GEMM tolerances relative to Σ|a||b| per element: the cpu kernel's chunk order, the tensor cores' order and precision. */
    static final double FP32_ROUNDING = 2e-5;
    static final double TENSOR_CORES = 0x1p-10;
    /** Layer tolerances relative to max |y|: GEMMs to FP32 rounding (cpu), tensor-core GEMMs. */
    static final double LAYER_FP32_ROUNDING = 1e-5;
    static final double LAYER_TENSOR_CORES = 0.01;

    private final List<Result> results = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        Backend be = Backend.parse(backend);
        if (be == Backend.JAVA) {
            throw new UsageException("--backend java is the reference itself; check cpu or cuda");
        }
        OutputFiles outputs = OutputFiles.builder().output("--json", json).open();  // checked before any work
        if (be == Backend.AUTO) {
            be = Routers.resolveAuto();
        }
        BackendStatus status = Backends.status(be);
        if (!status.usable()) {
            throw new BackendUnavailableException(be, status.detail());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("moe check: %s backend against the Java reference (seed %d)%n", be.cliName(), seed);
        routing(be);
        quantisation(be);
        gemms(be);
        layer(be);
        if (be == Backend.CPU) {
            TrainingKernelChecks.run(seed, this::record);
        }
        long failed = results.stream().filter(r -> !r.pass()).count();
        out.printf("moe check: %d of %d checks passed%s%n", results.size() - failed, results.size(), failed == 0 ? "" : ", " + failed
                + " FAILED");
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("machine", MachineInfo.describe());
            doc.put("backend", be.cliName());
            doc.put("seed", seed);
            doc.put("results", results);
            outputs.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
            outputs.commit();
        }
        return failed == 0 ? 0 : MoeCli.EXIT_FAILURE;
    }

    private void record(String check, Supplier<String> run) {
        record(check, true, run);
    }

    /** Runs one check: {@code run} answers null when it passes, else what differs. */
    private void record(String check, boolean exact, Supplier<String> run) {
        Result r;
        try {
            String failure = run.get();
            r = new Result(check, failure != null ? failure : exact ? "identical" : "within tolerance", failure == null);
        } catch (RuntimeException e) {
            r = new Result(check, e.getClass().getSimpleName() + ": " + e.getMessage(), false);
        }
        results.add(r);
        spec.commandLine().getOut().printf("  %-4s %-52s %s%n", r.pass() ? "ok" : "FAIL", r.check(), r.detail());
    }

    // ---- routing ----

    private void routing(Backend be) {
        RoutingConfig custom = RoutingConfig.builder().experts(96).groups(6).topkGroups(3).topk(6).scoreFunction(ScoreFunction.SIGMOID)
                .build();
        RoutingConfig wide = RoutingConfig.builder().experts(512).groups(1).topkGroups(1).topk(16).scoreFunction(ScoreFunction.SOFTMAX)
                .build();
        for (RoutingConfig c : List.of(RoutingConfig.deepseekV3(), RoutingConfig.deepseekV2(), custom, wide)) {
            String name = "route N=" + c.numExperts() + " G=" + c.numGroups() + " M=" + c.topkGroups() + " K=" + c.topk();
            int n = c.numExperts();
            record(name + " random", () -> sameRouting(be, c, SyntheticLogits.generate(1000, n, 1f, seed), bias(n)));
            record(name + " ties", () -> sameRouting(be, c, ties(777, n), bias(n)));
            record(name + " extremes", () -> sameRouting(be, c, extremes(300, n), null));
        }
        record("route empty batch", () -> sameRouting(be, RoutingConfig.deepseekV3(), new float[0], bias(256)));
    }

    private float[] bias(int n) {
        SplittableRandom rnd = new SplittableRandom(seed + n);
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            b[i] = (float) (rnd.nextGaussian() * 0.01);
        }
        return b;
    }

    /** Logits from four values: most comparisons are exact ties, decided by the lower index. */
    private float[] ties(int tokens, int n) {
        SplittableRandom rnd = new SplittableRandom(seed * 7 + n);
        float[] x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.25f * rnd.nextInt(4);
        }
        return x;
    }

    /** Huge, tiny and equal logits (sigmoid and softmax saturate; only the index order breaks ties). */
    private float[] extremes(int tokens, int n) {
        SplittableRandom rnd = new SplittableRandom(seed * 13 + n);
        float[] pool = {-3e38f, -1e30f, -88f, -1e-30f, 0f, 1e-30f, 30f, 1e30f, 3e38f};
        float[] x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = pool[rnd.nextInt(pool.length)];
        }
        return x;
    }

    private static String sameRouting(Backend be, RoutingConfig c, float[] logits, float[] bias) {
        RoutingResult want = Routers.reference(c).route(logits, bias);
        Router r = Routers.create(c, be);
        RoutingResult got = r.route(logits, bias);
        if (!Arrays.equals(want.ids(), got.ids())) {
            return "ids differ at " + Arrays.mismatch(want.ids(), got.ids());
        }
        if (!Arrays.equals(want.weights(), got.weights())) {
            int i = Arrays.mismatch(want.weights(), got.weights());
            return "weights differ at " + i + ": " + got.weights()[i] + " vs " + want.weights()[i];
        }
        return Arrays.equals(want.expertLoad(), got.expertLoad()) ? null : "expert loads differ";
    }

    // ---- FP8 quantisation ----

    private void quantisation(Backend be) {
        Fp8Quantizer q = Fp8Quantizer.create(be);
        int[][] shapes = {{1, 1}, {130, 300}, {256, 384}};
        for (int[] s : shapes) {
            for (Fp8Block block : Fp8Block.values()) {
                for (boolean pow2 : new boolean[] {false, true}) {
                    float[] x = values(s[0] * s[1], seed + s[0] + s[1]);
                    record("quantize " + s[0] + "x" + s[1] + " " + block.cliName() + (pow2 ? " pow2" : ""), () -> {
                        QuantizedTensor want = BlockQuantizer.quantize(x, s[0], s[1], block, pow2);
                        QuantizedTensor got = q.quantize(x, s[0], s[1], block, pow2);
                        if (!Arrays.equals(want.codes(), got.codes())) {
                            return "codes differ at " + Arrays.mismatch(want.codes(), got.codes());
                        }
                        return Arrays.equals(want.scales(), got.scales()) ? null : "scales differ at " + Arrays.mismatch(want.scales(),
                                got.scales());
                    });
                }
            }
        }
    }

    /** Gaussian values with every 11th a special one: zeros of both signs, E4M3's edges, tiny and huge magnitudes. */
    private static float[] values(int count, long seed) {
        return values(count, seed, new float[] {0f, -0f, 448f, -448f, 464f, 1e-8f, -3e-39f, 2e20f, 0.0019531f});
    }

    /** As {@link #values(int, long)} with the given special values. */
    private static float[] values(int count, long seed, float[] special) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = i % 11 == 5 ? special[rnd.nextInt(special.length)] : (float) rnd.nextGaussian();
        }
        return x;
    }

    // ---- FP8 GEMMs ----

    private void gemms(Backend be) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int m = 130;
        int n = 200;
        int k = 384;
        float[] special = {0f, -0f, 448f, -448f, 1e-8f, 30f};  // outliers, not overflow: the tolerance needs finite sums
        QuantizedTensor a = BlockQuantizer.quantize(values(m * k, rnd.nextLong(), special), m, k, Fp8Block.ROW_1X128, false);
        List<QuantizedTensor> ws = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            ws.add(BlockQuantizer.quantize(values(n * k, rnd.nextLong(), special), n, k, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(ws);
        int[] offsets = {0, 1, 1, 70, m};
        int[] counts = {32, 0, 5, 30};  // masked: 4 experts x 32 slots over the first 128 rows
        QuantizedTensor am = BlockQuantizer.quantize(values(128 * k, rnd.nextLong(), special), 128, k, Fp8Block.ROW_1X128, false);
        Fp8Gemm java = Fp8Gemm.create(Backend.JAVA);
        float[] dense = java.gemm(a, ws.getFirst());
        float[] grouped = java.groupedContiguous(a, offsets, w);
        float[] masked = java.groupedMasked(am, 32, counts, w);
        String shape = m + "x" + n + "x" + k;
        List<Fp8Gemm> gemms = new ArrayList<>(List.of(Fp8Gemm.create(be)));
        if (be == Backend.CUDA) {
            CudaDevice device = CudaDevice.query(0);
            for (CudaGemmKernel kernel : CudaGemmKernel.values()) {
                if (kernel.tensorCores() && kernel.runsOn(device)) {
                    gemms.add(Fp8Gemm.cuda(0, kernel));
                }
            }
        }
        // The tolerances' Σ|a||b| per element, once, when some kernel is not held to identical bits.
        boolean bounded = gemms.stream().anyMatch(g -> tolerance(g) > 0);
        float[] denseBound = bounded ? java.gemm(abs(a), abs(ws.getFirst())) : null;
        float[] groupedBound = bounded ? java.groupedContiguous(abs(a), offsets, absAll(w)) : null;
        float[] maskedBound = bounded ? java.groupedMasked(abs(am), 32, counts, absAll(w)) : null;
        for (Fp8Gemm g : gemms) {
            String name = g.backend() == Backend.CUDA ? g.cudaKernel().label() : g.backend().cliName();
            double rel = tolerance(g);
            record("gemm " + name + " dense " + shape, rel == 0, () -> within(dense, g.gemm(a, ws.getFirst()), denseBound, rel));
            record("gemm " + name + " grouped contiguous, 4 experts", rel == 0, () -> within(grouped, g.groupedContiguous(a, offsets, w),
                    groupedBound, rel));
            record("gemm " + name + " grouped masked, 4 x 32 slots", rel == 0, () -> within(masked, g.groupedMasked(am, 32, counts, w),
                    maskedBound, rel));
        }
    }

    /**
     * The GEMM's tolerance relative to Σ|a||b|: 0 (identical bits) for cuda's exact kernel; the cpu kernel
     * sums a 128-chunk in its own order (FP32 rounding); tensor cores in their own order and precision.
     */
    private static double tolerance(Fp8Gemm g) {
        return g.isTensorCores() ? TENSOR_CORES : g.backend() == Backend.CPU ? FP32_ROUNDING : 0;
    }

    static String identical(float[] want, float[] got) {
        int i = Arrays.mismatch(want, got);
        return i < 0 ? null : "element " + i + ": " + (i < got.length ? got[i] : Float.NaN) + " vs " + (i < want.length ? want[i] : Float.NaN);
    }

    /**
     * Each element within rel·Σ|a||b| (bound) of the reference; rel = 0: identical bits (bound unused;
     * Arrays.equals, so infinities and NaN compare as values).
     */
    static String within(float[] want, float[] got, float[] bound, double rel) {
        if (rel == 0) {
            return identical(want, got);
        }
        if (want.length != got.length) {
            return "length " + got.length + " vs " + want.length;
        }
        for (int i = 0; i < want.length; i++) {
            double tol = rel * Math.abs(bound[i]) + 1e-30;
            if (!(Math.abs((double) got[i] - want[i]) <= tol)) {
                return "element " + i + ": " + got[i] + " vs " + want[i] + " (tolerance " + tol + ")";
            }
        }
        return null;
    }

    private static QuantizedTensor abs(QuantizedTensor q) {
        byte[] c = q.codes().clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) (c[i] & 0x7f);
        }
        return new QuantizedTensor(q.rows(), q.cols(), q.block(), q.pow2(), c, q.scales());
    }

    private static ExpertWeights absAll(ExpertWeights w) {
        byte[] c = w.codes().clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) (c[i] & 0x7f);
        }
        return new ExpertWeights(w.experts(), w.rows(), w.cols(), c, w.scales());
    }

    // ---- the MoE layer ----

    private void layer(Backend be) {
        RoutingConfig c = RoutingConfig.builder().experts(32).groups(4).topkGroups(2).topk(4).scoreFunction(ScoreFunction.SIGMOID)
                .build();
        MoeLayerWeights w = MoeLayerWeights.synthetic(c, 256, 256, true, seed);
        int tokens = 77;
        float[] x = values(tokens * w.hidden(), seed + 99);
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(-4f, Math.min(4f, x[i]));  // hidden states, not codec edge cases
        }
        MoeLayer.Output want = MoeLayer.create(w, Backend.JAVA).forwardWithRouting(x, tokens);
        double rel = be == Backend.CPU ? LAYER_FP32_ROUNDING : 0;  // the cuda MoeLayer runs the exact GEMMs
        record("layer N=32 K=4 H=256 I=256 shared, " + tokens + " tokens", rel == 0, () -> sameLayer(want,
                MoeLayer.create(w, be).forwardWithRouting(x, tokens), rel));
        if (be == Backend.CUDA) {
            for (boolean tc : new boolean[] {false, true}) {
                record("layer on the GPU (resident" + (tc ? ", tensor cores)" : ")"), !tc, () -> {
                    try (CudaMoeLayer gpu = CudaMoeLayer.create(w, 0, 64, tc)) {
                        return sameLayer(want, gpu.forward(x, tokens), tc ? LAYER_TENSOR_CORES : 0);
                    }
                });
            }
        }
    }

    /** Routing identical; outputs identical (rel = 0) or each within rel·max |y|. */
    private static String sameLayer(MoeLayer.Output want, MoeLayer.Output got, double rel) {
        if (!Arrays.equals(want.routing().ids(), got.routing().ids())) {
            return "routed ids differ";
        }
        if (rel == 0) {
            return identical(want.hidden(), got.hidden());
        }
        float max = 0;
        for (float v : want.hidden()) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < want.hidden().length; i++) {
            if (!(Math.abs(want.hidden()[i] - got.hidden()[i]) <= rel * max)) {
                return "element " + i + ": " + got.hidden()[i] + " vs " + want.hidden()[i] + " (tolerance " + rel * max + ")";
            }
        }
        return null;
    }
}
