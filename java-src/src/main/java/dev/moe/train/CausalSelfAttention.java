package dev.moe.train;

/**
 * Causal multi-head self-attention with RoPE on q and k: qkv = u·Wqkvᵀ, per sequence b and head h
 * P = softmax(mask(q·kᵀ/√h_d)), o = P·v, out = o·Woᵀ. All products go through a {@link Gemm} on views of
 * the [T, 3d] and [T, d] tensors (T = batch·seq, rows of sequence b are b·S..b·S+S−1).
 */
final class CausalSelfAttention {
    private final int dim;
    private final int heads;
    private final int headDim;
    private final int seq;
    private final float scale;
    private final Rope rope;
    private final Gemm gemm;
    private final Projections proj;

    /** Saved by the forward for the backward, reused across steps of the same batch size. */
    static final class Saved {
        final float[] qkv;
        final float[] probs;
        final float[] o;

        Saved(int tokens, int batch, TransformerConfig c) {
            qkv = new float[tokens * 3 * c.dim()];
            probs = new float[batch * c.heads() * c.seqLen() * c.seqLen()];
            o = new float[tokens * c.dim()];
        }
    }

    CausalSelfAttention(TransformerConfig c, Gemm gemm, Projections proj) {
        this.dim = c.dim();
        this.heads = c.heads();
        this.headDim = c.headDim();
        this.seq = c.seqLen();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.rope = new Rope(seq, headDim);
        this.gemm = gemm;
        this.proj = proj;
    }

    /**
     * out = attention(u).
     *
     * @param u     normalised input float [T, d]
     * @param batch sequences B (T = B·S)
     * @param p     parameters
     * @param wqkv  offset of Wqkv [3d, d]
     * @param wo    offset of Wo [d, d]
     * @param s     receives what the backward needs
     * @param out   receives float [T, d]
     */
    void forward(float[] u, int batch, float[] p, int wqkv, int wo, Saved s, float[] out) {
        int t = batch * seq;
        int ld = 3 * dim;
        proj.forward(u, 0, t, dim, p, wqkv, ld, s.qkv, 0);
        for (int r = 0; r < t; r++) {
            int pos = r % seq;
            for (int h = 0; h < heads; h++) {
                rope.rotate(s.qkv, r * ld + h * headDim, pos, false);
                rope.rotate(s.qkv, r * ld + dim + h * headDim, pos, false);
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int q = b * seq * ld + h * headDim;
                int pr = (b * heads + h) * seq * seq;
                gemm.gemm(false, true, seq, seq, headDim, s.qkv, q, ld, s.qkv, q + dim, ld, 0f, s.probs, pr, seq);
                softmaxCausal(s.probs, pr);
                gemm.gemm(false, false, seq, headDim, seq, s.probs, pr, seq, s.qkv, q + 2 * dim, ld, 0f,
                        s.o, b * seq * dim + h * headDim, dim);
            }
        }
        proj.forward(s.o, 0, t, dim, p, wo, dim, out, 0);
    }

    /** Row i keeps columns 0..i: scaled, max-subtracted exponentials normalised to 1; the rest 0. */
    private void softmaxCausal(float[] a, int off) {
        for (int i = 0; i < seq; i++) {
            int row = off + i * seq;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j <= i; j++) {
                max = Math.max(max, a[row + j]);
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) {
                float e = (float) Math.exp((a[row + j] - max) * scale);
                a[row + j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j <= i; j++) {
                a[row + j] *= inv;
            }
            for (int j = i + 1; j < seq; j++) {
                a[row + j] = 0f;
            }
        }
    }

    /**
     * Backward of {@link #forward}: du = ∂L/∂u (overwritten), gradients of Wqkv and Wo accumulated.
     *
     * @param dout  ∂L/∂out float [T, d]
     * @param u     the forward's input
     * @param batch B
     * @param p     parameters
     * @param grad  gradients (same layout as p)
     * @param wqkv  offset of Wqkv
     * @param wo    offset of Wo
     * @param s     what the forward saved
     * @param w     scratch: do [T, d], dqkv [T, 3d], dP [S, S]
     * @param du    receives float [T, d]
     */
    void backward(float[] dout, float[] u, int batch, float[] p, float[] grad, int wqkv, int wo, Saved s, Scratch w,
                  float[] du) {
        int t = batch * seq;
        int ld = 3 * dim;
        gemm.gemm(true, false, dim, dim, t, dout, 0, dim, s.o, 0, dim, 1f, grad, wo, dim);
        proj.backwardInput(dout, 0, t, dim, p, wo, dim, w.dO, 0);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int q = b * seq * ld + h * headDim;
                int o = b * seq * dim + h * headDim;
                int pr = (b * heads + h) * seq * seq;
                gemm.gemm(false, true, seq, seq, headDim, w.dO, o, dim, s.qkv, q + 2 * dim, ld, 0f, w.dP, 0, seq);
                gemm.gemm(true, false, seq, headDim, seq, s.probs, pr, seq, w.dO, o, dim, 0f, w.dqkv, q + 2 * dim, ld);
                softmaxBackward(s.probs, pr, w.dP);
                gemm.gemm(false, false, seq, headDim, seq, w.dP, 0, seq, s.qkv, q + dim, ld, 0f, w.dqkv, q, ld);
                gemm.gemm(true, false, seq, headDim, seq, w.dP, 0, seq, s.qkv, q, ld, 0f, w.dqkv, q + dim, ld);
            }
        }
        for (int r = 0; r < t; r++) {
            int pos = r % seq;
            for (int h = 0; h < heads; h++) {
                rope.rotate(w.dqkv, r * ld + h * headDim, pos, true);
                rope.rotate(w.dqkv, r * ld + dim + h * headDim, pos, true);
            }
        }
        gemm.gemm(true, false, ld, dim, t, w.dqkv, 0, ld, u, 0, dim, 1f, grad, wqkv, dim);
        proj.backwardInput(w.dqkv, 0, t, ld, p, wqkv, dim, du, 0);
    }

    /** dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, in place in dP (masked entries have P = 0). */
    private void softmaxBackward(float[] probs, int off, float[] dp) {
        for (int i = 0; i < seq; i++) {
            int row = off + i * seq;
            double dot = 0;
            for (int j = 0; j <= i; j++) {
                dot += (double) probs[row + j] * dp[i * seq + j];
            }
            float d = (float) dot;
            for (int j = 0; j <= i; j++) {
                dp[i * seq + j] = probs[row + j] * (dp[i * seq + j] - d) * scale;
            }
            for (int j = i + 1; j < seq; j++) {
                dp[i * seq + j] = 0f;
            }
        }
    }

    /** Scratch the backward needs, reused across steps of the same batch size. */
    static final class Scratch {
        final float[] dO;
        final float[] dqkv;
        final float[] dP;

        Scratch(int tokens, TransformerConfig c) {
            dO = new float[tokens * c.dim()];
            dqkv = new float[tokens * 3 * c.dim()];
            dP = new float[c.seqLen() * c.seqLen()];
        }
    }
}
