package dev.moe.layer;

import java.util.Objects;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

import dev.moe.backend.Backend;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.math.DetMath;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingResult;

/**
 * The forward pass of one MoE layer on the CPU (docs/specification.md §c.3): router logits x·gateᵀ in FP32, the gate
 * (scores, bias, group limit, top-K, weights), tokens permuted into expert order, FP8 activations
 * (1×128 tiles), one grouped GEMM for w1 and w3 together, SwiGLU in FP32, a second FP8 grouped GEMM
 * for w2, and the weighted combine in FP32 in the router's output order, plus the shared expert on
 * every token. On {@code java} every step is the pure-Java reference; on {@code cpu} the gate,
 * quantisation and GEMMs are the native kernels (the projection, permutation, SwiGLU and combine
 * are the same Java code on both; on {@code cuda} each kernel call copies its operands to the GPU and
 * back). Instances are immutable and thread-safe. For a layer that stays on the GPU between calls, with
 * bit-identical results, see {@link CudaMoeLayer}.
 */
public final class MoeLayer {
    /** Batches with fewer multiply-adds than this run their Java loops on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 18;

    private final MoeLayerWeights w;
    private final Router router;
    private final Fp8Quantizer quantizer;
    private final Fp8Gemm gemm;
    /** The router weight transposed, one array of N per input channel, so the projection runs along experts. */
    private final float[][] gateByInput;
    /** The shared expert's matrices as single experts (their native copies are then made once), or null. */
    private final ExpertWeights sharedW13;
    private final ExpertWeights sharedW2;

    private MoeLayer(MoeLayerWeights w, Router router, Fp8Quantizer quantizer, Fp8Gemm gemm) {
        this.w = w;
        this.router = router;
        this.quantizer = quantizer;
        this.gemm = gemm;
        this.gateByInput = transpose(w.gate(), w.config().numExperts(), w.hidden());
        this.sharedW13 = w.hasSharedExpert() ? ExpertWeights.single(w.sharedW13()) : null;
        this.sharedW2 = w.hasSharedExpert() ? ExpertWeights.single(w.sharedW2()) : null;
    }

    /**
     * A layer running on {@code backend}: java, cpu or cuda (gate, quantisation and GEMMs all on that
     * backend, each call copying to and from the GPU for cuda), or auto = cuda when a usable GPU exists,
     * else cpu when the native library loads, else java. The routing is identical on every backend; the
     * output is the java layer's bits on cuda (exact GEMMs) and agrees to FP32 rounding on cpu (its GEMMs
     * sum a 128-chunk in their own order).
     *
     * @param weights the layer's weights (kept, not copied)
     * @param backend the backend
     * @return the layer
     * @throws dev.moe.backend.BackendUnavailableException if a backend named explicitly cannot run here
     */
    public static MoeLayer create(MoeLayerWeights weights, Backend backend) {
        Objects.requireNonNull(weights, "weights");
        Fp8Gemm g = Fp8Gemm.create(backend);
        return new MoeLayer(weights, Routers.create(weights.config(), g.backend()), Fp8Quantizer.create(g.backend()), g);
    }

    /** {@return the concrete backend the layer runs on} */
    public Backend backend() {
        return gemm.backend();
    }

    /** {@return the layer's weights} */
    public MoeLayerWeights weights() {
        return w;
    }

    /**
     * The output and the routing behind it.
     *
     * @param hidden  y float [T, H], row-major
     * @param routing the gate's choice for the T tokens
     */
    public record Output(float[] hidden, RoutingResult routing) {}

    /**
     * Runs the layer.
     *
     * @param x      float [T, H], row-major, every value finite
     * @param tokens T, &ge; 0
     * @return y float [T, H], row-major (a new array)
     * @throws IllegalArgumentException if {@code x} is not [T, H] or holds a non-finite value
     */
    public float[] forward(float[] x, int tokens) {
        return forwardWithRouting(x, tokens).hidden();
    }

    /**
     * As {@link #forward}, also returning the routing.
     *
     * @param x      float [T, H], row-major, every value finite
     * @param tokens T, &ge; 0
     * @return y float [T, H] and the routing
     * @throws IllegalArgumentException if {@code x} is not [T, H] or holds a non-finite value
     */
    public Output forwardWithRouting(float[] x, int tokens) {
        checkInput(x, tokens);
        RoutingResult routing = route(x, tokens);
        float[] out = new float[tokens * w.hidden()];
        routedExperts(x, tokens, routing, out);
        addSharedExpert(x, tokens, out);
        return new Output(out, routing);
    }

    /** Checks that x is [T, H] and finite. */
    void checkInput(float[] x, int tokens) {
        checkInput(x, tokens, w.hidden());
    }

    /** Checks that x is [T, h] and finite, naming the first bad value. */
    static void checkInput(float[] x, int tokens, int h) {
        if (tokens < 0 || x.length != (long) tokens * h) {
            throw new IllegalArgumentException("input must be [T, H] = [" + tokens + ", " + h + "], got " + x.length + " values");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new IllegalArgumentException("input [" + (i / h) + ", " + (i % h) + "] is " + x[i]);
            }
        }
    }

    /** The gate on x's router logits. */
    RoutingResult route(float[] x, int tokens) {
        return router.route(logits(x, tokens), w.gateBias());
    }

    /** out += the shared expert on every token (nothing without one). */
    void addSharedExpert(float[] x, int tokens, float[] out) {
        if (w.hasSharedExpert() && tokens > 0) {
            float[] shared = expert(x, tokens, sharedW13, sharedW2);
            for (int i = 0; i < out.length; i++) {
                out[i] += shared[i];
            }
        }
    }

    /** FP8 activations of [rows, cols] in 1×128 tiles, as the layer quantises them. */
    QuantizedTensor quantizeRows(float[] x, int rows, int cols) {
        return quantizer.quantize(x, rows, cols, Fp8Block.ROW_1X128, false);
    }

    /**
     * The routed experts on rows already in expert order: rows [offsets[e], offsets[e+1]) of xq go
     * through expert e (w13 GEMM, SwiGLU, FP8 again, w2 GEMM); returns y float [rows, H].
     */
    float[] expertRows(QuantizedTensor xq, int[] offsets) {
        float[] h13 = gemm.groupedContiguous(xq, offsets, w.w13());
        float[] act = swiglu(h13, xq.rows(), w.intermediate());
        QuantizedTensor aq = quantizeRows(act, xq.rows(), w.intermediate());
        return gemm.groupedContiguous(aq, offsets, w.w2());
    }

    /**
     * Router logits x·gateᵀ, FP32, each z[t, e] summed in increasing h (the same bits on every backend).
     * The loop runs along experts over the transposed gate, z[t, :] += x[t, q] · gateᵀ[q, :] for q
     * ascending, which is every expert's own sequential sum (a multiply then an add, never fused) with
     * the experts side by side in vector lanes.
     */
    float[] logits(float[] x, int tokens) {
        int h = w.hidden();
        int n = w.config().numExperts();
        float[] z = new float[tokens * n];
        forTokens(tokens, (long) n * h, t -> {
            float[] acc = new float[n];
            for (int q = 0; q < h; q++) {
                axpy(acc, x[t * h + q], gateByInput[q]);
            }
            System.arraycopy(acc, 0, z, t * n, n);
        });
        return z;
    }

    /**
     * acc[e] += a · m[e] for every e: a separate multiply and add. Both arrays at the same index is the
     * form the JIT vectorises (with an offset into m it could not rule out overlap, and would not).
     */
    private static void axpy(float[] acc, float a, float[] m) {
        for (int e = 0; e < acc.length; e++) {
            acc[e] += a * m[e];
        }
    }

    /** m [rows, cols] row-major as cols arrays of rows. */
    private static float[][] transpose(float[] m, int rows, int cols) {
        float[][] t = new float[cols][rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c][r] = m[r * cols + c];
            }
        }
        return t;
    }

    /** Runs {@code body} for t = 0 .. tokens−1, in parallel when the batch is worth it. */
    private static void forTokens(int tokens, long workPerToken, IntConsumer body) {
        IntStream range = IntStream.range(0, tokens);
        (tokens > 1 && tokens * workPerToken >= PARALLEL_WORK ? range.parallel() : range).forEach(body);
    }

    private void routedExperts(float[] x, int tokens, RoutingResult r, float[] out) {
        int h = w.hidden();
        int n = w.config().numExperts();
        int k = r.topk();
        // Permutation: assignments (t, q) grouped by expert, tokens ascending inside an expert.
        int[] offsets = new int[n + 1];
        for (int id : r.ids()) {
            if (id >= 0) {
                offsets[id + 1]++;
            }
        }
        for (int e = 0; e < n; e++) {
            offsets[e + 1] += offsets[e];
        }
        int rows = offsets[n];
        int[] next = offsets.clone();
        int[] rowOf = new int[tokens * k];
        float[] xp = new float[rows * h];
        for (int t = 0; t < tokens; t++) {
            for (int q = 0; q < k; q++) {
                int id = r.ids()[t * k + q];
                if (id < 0) {
                    rowOf[t * k + q] = -1;
                    continue;
                }
                int row = next[id]++;
                rowOf[t * k + q] = row;
                System.arraycopy(x, t * h, xp, row * h, h);
            }
        }
        if (rows == 0) {
            return;
        }
        float[] y = expertRows(quantizeRows(xp, rows, h), offsets);
        // Combine in FP32, choices in the router's order (docs/specification.md §k #14).
        forTokens(tokens, (long) k * h, t -> {
            for (int q = 0; q < k; q++) {
                int row = rowOf[t * k + q];
                if (row < 0) {
                    continue;
                }
                float g = r.weights()[t * k + q];
                for (int c = 0; c < h; c++) {
                    out[t * h + c] += g * y[row * h + c];
                }
            }
        });
    }

    /** One dense SwiGLU expert on all tokens: w2 · (silu(w1·x) ⊙ w3·x). */
    private float[] expert(float[] x, int tokens, ExpertWeights w13, ExpertWeights w2) {
        int width = w2.cols();
        int[] all = {0, tokens};
        QuantizedTensor xq = quantizer.quantize(x, tokens, w.hidden(), Fp8Block.ROW_1X128, false);
        float[] act = swiglu(gemm.groupedContiguous(xq, all, w13), tokens, width);
        return gemm.groupedContiguous(quantizer.quantize(act, tokens, width, Fp8Block.ROW_1X128, false), all, w2);
    }

    /**
     * silu(a)·b for h13 rows [a (width) | b (width)]; silu(a) = a·sigmoid(a) with the gate's deterministic
     * sigmoid ({@link DetMath#sigmoid}), FP32: the same bits on every backend, the GPU included.
     */
    static float[] swiglu(float[] h13, int rows, int width) {
        float[] out = new float[rows * width];
        forTokens(rows, 16L * width, r -> {
            int src = r * 2 * width;
            for (int c = 0; c < width; c++) {
                float a = h13[src + c];
                out[r * width + c] = (a * DetMath.sigmoid(a)) * h13[src + width + c];
            }
        });
        return out;
    }
}
