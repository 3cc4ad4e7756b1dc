package dev.moe.train;

import java.util.Arrays;
import java.util.SplittableRandom;

import dev.moe.loss.AuxLoss;
import dev.moe.math.Gaussian;
import dev.moe.routing.Router;

/**
 * The byte-level MoE transformer of a {@link TransformerConfig}: token embedding, {@code layers} blocks
 * x += Attn(RMSNorm(x)); x += MoE(RMSNorm(x)), a final RMSNorm and the output head, trained on
 * next-byte cross-entropy. Forward and backward are written out per layer (no autograd), on one flat
 * parameter array laid out by {@link ParameterLayout}. Not thread-safe: one instance per training run.
 */
public final class MoeTransformer {
    private final TransformerConfig c;
    private final ParameterLayout layout;
    private final float[] params;
    private final CausalSelfAttention attention;
    private final MoeFeedForward moe;
    private final Gemm gemm;
    private final Projections projections;
    /** Activations per batch size (training and evaluation batches differ), the last one used in {@code act}. */
    private final java.util.Map<Integer, Activations> cached = new java.util.HashMap<>();
    private Activations act;
    private StepTimer timer;

    /**
     * A model with parameters initialised from {@code seed}: matrices N(0, 0.02²), the output
     * projections (attention out, expert w2) N(0, (0.02/√(2·layers))²), norm gains 1.
     *
     * @param config the shape
     * @param gemm   the matrix multiply to use
     * @param router the gate (its configuration must be {@code config.routing()})
     * @param seed   initialisation seed
     */
    public MoeTransformer(TransformerConfig config, Gemm gemm, Router router, long seed) {
        this(config, gemm, router, Precision.FP32, seed);
    }

    /**
     * A model whose projections (attention q/k/v and output, routed and shared experts) run forward and
     * activation gradient in {@code precision}; everything else (router, attention scores, output head,
     * every weight gradient) stays FP32.
     *
     * @param config    the shape
     * @param gemm      the FP32 matrix multiply (its backend also runs the FP8 kernels)
     * @param router    the gate (its configuration must be {@code config.routing()})
     * @param precision FP32, or FP8 with DeepSeek-V3's block scaling
     * @param seed      initialisation seed
     */
    public MoeTransformer(TransformerConfig config, Gemm gemm, Router router, Precision precision, long seed) {
        if (!router.config().equals(config.routing())) {
            throw new IllegalArgumentException("router configuration " + router.config() + " is not the model's "
                    + config.routing());
        }
        this.c = config;
        this.layout = new ParameterLayout(config);
        this.params = new float[layout.size()];
        this.gemm = gemm;
        this.projections = precision == Precision.FP8 ? Fp8Projections.create(router.backend()) : Projections.fp32(gemm);
        this.attention = new CausalSelfAttention(config, gemm, projections);
        this.moe = new MoeFeedForward(config, router, gemm, projections);
        initialize(seed);
    }

    private void initialize(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double small = 0.02 / Math.sqrt(2.0 * c.layers());
        for (ParameterLayout.Tensor t : layout.tensors()) {
            if (!t.decay()) {
                Arrays.fill(params, t.offset(), t.offset() + t.size(), 1f);
                continue;
            }
            boolean output = t.name().endsWith("attn.wo") || t.name().endsWith(".w2");
            double std = output ? small : 0.02;
            for (int i = 0; i < t.size(); i++) {
                params[t.offset() + i] = (float) (std * Gaussian.next(rnd));
            }
        }
    }

    /**
     * Measures where forward and backward spend their time (null: not measured, the default).
     *
     * @param timer receives the time per part
     */
    public void setTimer(StepTimer timer) {
        this.timer = timer;
    }

    private long mark(StepTimer.Part part, long start) {
        return timer == null ? 0 : timer.add(part, start);
    }

    /** Tells the model its parameters changed (after each optimizer step), so FP8 weight copies are remade. */
    public void parametersChanged() {
        projections.parametersChanged();
    }

    /** {@return the model's shape} */
    public TransformerConfig config() {
        return c;
    }

    /** {@return where each tensor lives in {@link #parameters()}} */
    public ParameterLayout layout() {
        return layout;
    }

    /** {@return the parameters, live (the optimizer updates them in place)} */
    public float[] parameters() {
        return params;
    }

    /**
     * What one forward pass measured.
     *
     * @param lossSum  Σ cross-entropy over the batch's tokens, nats
     * @param tokens   tokens predicted
     * @param loads    per layer, assignments per expert, long [L][N]
     * @param auxLoss  Σ over layers of the weighted auxiliary loss (0 without one)
     */
    public record ForwardResult(double lossSum, int tokens, long[][] loads, double auxLoss) {}

    /**
     * Runs the model on B sequences and keeps what the backward needs.
     *
     * @param batch     B·(S+1) bytes: sequence b is bytes b·(S+1)..b·(S+1)+S; inputs are its first S
     *                  bytes, targets its last S
     * @param batchSize B
     * @param biases    the gate's selection bias per layer (float [N] each), or null for none
     * @param aux       auxiliary loss applied per sequence in every layer, or null
     * @param auxWeight multiplies the auxiliary loss (this process's share of the global batch)
     * @return the summed loss, the loads and the auxiliary loss
     */
    public ForwardResult forward(byte[] batch, int batchSize, float[][] biases, AuxLoss aux, double auxWeight) {
        int s = c.seqLen();
        if (batch.length != batchSize * (s + 1)) {
            throw new IllegalArgumentException("batch holds " + batch.length + " bytes, expected " + batchSize + " x "
                    + (s + 1));
        }
        if (act == null || act.batch != batchSize) {
            if (cached.size() >= 2 && !cached.containsKey(batchSize)) {
                cached.clear();
            }
            act = cached.computeIfAbsent(batchSize, b -> new Activations(b, c));
        }
        Activations a = act;
        int t = batchSize * s;
        int d = c.dim();
        for (int b = 0; b < batchSize; b++) {
            for (int i = 0; i < s; i++) {
                a.inputs[b * s + i] = batch[b * (s + 1) + i];
                a.targets[b * s + i] = batch[b * (s + 1) + i + 1];
            }
        }
        long now = timer == null ? 0 : System.nanoTime();
        for (int r = 0; r < t; r++) {
            System.arraycopy(params, layout.embed() + Byte.toUnsignedInt(a.inputs[r]) * d, a.x[0], r * d, d);
        }
        long[][] loads = new long[c.layers()][];
        double auxSum = 0;
        for (int l = 0; l < c.layers(); l++) {
            ParameterLayout.Block blk = layout.block(l);
            RmsNorm.forward(a.x[l], a.attnIn[l], a.attnRstd[l], params, blk.attnNorm(), t, d);
            now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
            attention.forward(a.attnIn[l], batchSize, params, blk.wqkv(), blk.wo(), a.attn[l], a.tmp);
            now = mark(StepTimer.Part.ATTENTION, now);
            add(a.x[l], a.tmp, a.mid[l], t * d);
            RmsNorm.forward(a.mid[l], a.ffnIn[l], a.ffnRstd[l], params, blk.ffnNorm(), t, d);
            now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
            moe.route(a.ffnIn[l], t, params, blk, biases == null ? null : biases[l], aux, auxWeight, a.moe[l]);
            now = mark(StepTimer.Part.ROUTER, now);
            moe.experts(a.ffnIn[l], t, params, blk, a.moe[l], a.tmp);
            now = mark(StepTimer.Part.EXPERTS, now);
            add(a.mid[l], a.tmp, a.x[l + 1], t * d);
            loads[l] = a.moe[l].route.expertLoad().clone();
            auxSum += a.moe[l].auxValue;
        }
        RmsNorm.forward(a.x[c.layers()], a.hn, a.hnRstd, params, layout.norm(), t, d);
        now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
        gemmHead(a, t);
        double loss = CrossEntropy.forward(a.logits, a.targets, 0, t, TransformerConfig.VOCAB);
        mark(StepTimer.Part.HEAD, now);
        return new ForwardResult(loss, t, loads, auxSum);
    }

    private void gemmHead(Activations a, int t) {
        gemm.gemm(false, true, t, TransformerConfig.VOCAB, c.dim(), a.hn, 0, c.dim(), params, layout.head(),
                c.dim(), 0f, a.logits, 0, TransformerConfig.VOCAB);
    }

    /**
     * Backward of the last {@link #forward}: accumulates ∂(lossScale·Σ loss + Σ aux)/∂params into
     * {@code grad}.
     *
     * @param lossScale the weight of each token's loss (1 / global batch tokens for a mean)
     * @param grad      accumulates the gradient, laid out like {@link #parameters()}
     * @param auxGate   accumulates the auxiliary loss's part of every router's gradient, float [L, N, d]
     *                  (also included in {@code grad}); may be null
     */
    public void backward(float lossScale, float[] grad, float[] auxGate) {
        Activations a = act;
        if (a == null) {
            throw new IllegalStateException("backward before forward");
        }
        if (grad.length != params.length) {
            throw new IllegalArgumentException("gradient has " + grad.length + " values, the model " + params.length);
        }
        int t = a.batch * c.seqLen();
        int d = c.dim();
        int v = TransformerConfig.VOCAB;
        long now = timer == null ? 0 : System.nanoTime();
        CrossEntropy.backward(a.logits, a.targets, 0, t, v, lossScale);
        gemm.gemm(true, false, v, d, t, a.logits, 0, v, a.hn, 0, d, 1f, grad, layout.head(), d);
        gemm.gemm(false, false, t, d, v, a.logits, 0, v, params, layout.head(), d, 0f, a.tmp, 0, d);
        now = mark(StepTimer.Part.HEAD, now);
        Arrays.fill(a.dx, 0, t * d, 0f);
        RmsNorm.backward(a.tmp, a.x[c.layers()], a.hnRstd, params, layout.norm(), a.dx, grad, t, d);
        now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
        for (int l = c.layers() - 1; l >= 0; l--) {
            ParameterLayout.Block blk = layout.block(l);
            moe.backwardExperts(a.dx, a.ffnIn[l], t, params, grad, blk, a.moe[l], a.moeScratch, a.tmp);
            now = mark(StepTimer.Part.EXPERTS, now);
            moe.backwardRouter(a.ffnIn[l], t, params, grad, blk, a.moe[l], a.moeScratch, a.tmp, auxGate,
                    l * c.experts() * d);
            now = mark(StepTimer.Part.ROUTER, now);
            // dx now stands for ∂L/∂mid through the residual; add the norm's path.
            RmsNorm.backward(a.tmp, a.mid[l], a.ffnRstd[l], params, blk.ffnNorm(), a.dx, grad, t, d);
            now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
            attention.backward(a.dx, a.attnIn[l], a.batch, params, grad, blk.wqkv(), blk.wo(), a.attn[l], a.attnScratch,
                    a.tmp);
            now = mark(StepTimer.Part.ATTENTION, now);
            RmsNorm.backward(a.tmp, a.x[l], a.attnRstd[l], params, blk.attnNorm(), a.dx, grad, t, d);
            now = mark(StepTimer.Part.NORMS_RESIDUALS, now);
        }
        for (int r = 0; r < t; r++) {
            int row = layout.embed() + Byte.toUnsignedInt(a.inputs[r]) * d;
            for (int j = 0; j < d; j++) {
                grad[row + j] += a.dx[r * d + j];
            }
        }
        mark(StepTimer.Part.NORMS_RESIDUALS, now);
    }

    /**
     * Expert groups spanned by the tokens of the last forward in one layer, summed over its tokens.
     *
     * @param layer the block
     * @return Σ over tokens of the number of distinct groups among the token's experts
     */
    public long groupsUsed(int layer) {
        return act.moe[layer].groupsUsed;
    }

    /** The routing of layer l in the last forward (for tests). */
    dev.moe.routing.RoutingResult lastRouting(int layer) {
        return act.moe[layer].route;
    }

    /** The router logits of layer l in the last forward (for tests). */
    float[] lastLogits(int layer) {
        return act.moe[layer].logits;
    }

    private static void add(float[] a, float[] b, float[] out, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** Everything a forward keeps for its backward, sized for one batch size. */
    private static final class Activations {
        final int batch;
        final byte[] inputs;
        final byte[] targets;
        final float[][] x;
        final float[][] attnIn;
        final float[][] attnRstd;
        final float[][] mid;
        final float[][] ffnIn;
        final float[][] ffnRstd;
        final CausalSelfAttention.Saved[] attn;
        final MoeFeedForward.Saved[] moe;
        final CausalSelfAttention.Scratch attnScratch;
        final MoeFeedForward.Scratch moeScratch;
        final float[] hn;
        final float[] hnRstd;
        final float[] logits;
        final float[] tmp;
        final float[] dx;

        Activations(int batch, TransformerConfig c) {
            this.batch = batch;
            int t = batch * c.seqLen();
            int d = c.dim();
            int layers = c.layers();
            inputs = new byte[t];
            targets = new byte[t];
            x = new float[layers + 1][t * d];
            attnIn = new float[layers][t * d];
            attnRstd = new float[layers][t];
            mid = new float[layers][t * d];
            ffnIn = new float[layers][t * d];
            ffnRstd = new float[layers][t];
            attn = new CausalSelfAttention.Saved[layers];
            moe = new MoeFeedForward.Saved[layers];
            for (int l = 0; l < layers; l++) {
                attn[l] = new CausalSelfAttention.Saved(t, batch, c);
                moe[l] = new MoeFeedForward.Saved(t, c);
            }
            attnScratch = new CausalSelfAttention.Scratch(t, c);
            moeScratch = new MoeFeedForward.Scratch(t, c);
            hn = new float[t * d];
            hnRstd = new float[t];
            logits = new float[t * TransformerConfig.VOCAB];
            tmp = new float[t * d];
            dx = new float[t * d];
        }
    }
}
