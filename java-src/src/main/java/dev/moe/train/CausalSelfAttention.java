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
        Heads hd = heads(batch);
        gemm.gemmBatched(false, true, hd.dims(seq, seq, headDim), hd.offsets(hd.q, hd.k, hd.p), s.qkv, ld, s.qkv, ld, 0f,
                s.probs, seq);
        java.util.stream.IntStream.range(0, batch * heads).parallel().forEach(i -> softmaxCausal(s.probs, i * seq * seq));
        gemm.gemmBatched(false, false, hd.dims(seq, headDim, seq), hd.offsets(hd.p, hd.v, hd.o), s.probs, seq, s.qkv, ld,
                0f, s.o, dim);
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
        Heads hd = heads(batch);
        gemm.gemmBatched(false, true, hd.dims(seq, seq, headDim), hd.offsets(hd.o, hd.v, hd.p), w.dO, dim, s.qkv, ld, 0f,
                w.dP, seq);
        gemm.gemmBatched(true, false, hd.dims(seq, headDim, seq), hd.offsets(hd.p, hd.o, hd.v), s.probs, seq, w.dO, dim, 0f,
                w.dqkv, ld);
        java.util.stream.IntStream.range(0, batch * heads).parallel()
                .forEach(i -> softmaxBackward(s.probs, i * seq * seq, w.dP, i * seq * seq));
        gemm.gemmBatched(false, false, hd.dims(seq, headDim, seq), hd.offsets(hd.p, hd.k, hd.q), w.dP, seq, s.qkv, ld, 0f,
                w.dqkv, ld);
        gemm.gemmBatched(true, false, hd.dims(seq, headDim, seq), hd.offsets(hd.p, hd.q, hd.k), w.dP, seq, s.qkv, ld, 0f,
                w.dqkv, ld);
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
    private void softmaxBackward(float[] probs, int off, float[] dp, int dpOff) {
        for (int i = 0; i < seq; i++) {
            int row = off + i * seq;
            int drow = dpOff + i * seq;
            double dot = 0;
            for (int j = 0; j <= i; j++) {
                dot += (double) probs[row + j] * dp[drow + j];
            }
            float d = (float) dot;
            for (int j = 0; j <= i; j++) {
                dp[drow + j] = probs[row + j] * (dp[drow + j] - d) * scale;
            }
            for (int j = i + 1; j < seq; j++) {
                dp[drow + j] = 0f;
            }
        }
    }

    /**
     * Where each head's q, k, v (in [T, 3d]), o (in [T, d]) and score matrix (in [B·H, S, S]) start, for
     * batched products over all heads.
     */
    private record Heads(long[] q, long[] k, long[] v, long[] o, long[] p) {
        long[] dims(int m, int n, int k) {
            long[] d = new long[3 * q.length];
            for (int i = 0; i < q.length; i++) {
                d[3 * i] = m;
                d[3 * i + 1] = n;
                d[3 * i + 2] = k;
            }
            return d;
        }

        long[] offsets(long[] a, long[] b, long[] c) {
            long[] o = new long[3 * a.length];
            for (int i = 0; i < a.length; i++) {
                o[3 * i] = a[i];
                o[3 * i + 1] = b[i];
                o[3 * i + 2] = c[i];
            }
            return o;
        }
    }

    private Heads heads(int batch) {
        int count = batch * heads;
        long[] q = new long[count];
        long[] k = new long[count];
        long[] v = new long[count];
        long[] o = new long[count];
        long[] p = new long[count];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int i = b * heads + h;
                q[i] = (long) b * seq * 3 * dim + (long) h * headDim;
                k[i] = q[i] + dim;
                v[i] = q[i] + 2L * dim;
                o[i] = (long) b * seq * dim + (long) h * headDim;
                p[i] = (long) i * seq * seq;
            }
        }
        return new Heads(q, k, v, o, p);
    }

    /** Scratch the backward needs, reused across steps of the same batch size. */
    static final class Scratch {
        final float[] dO;
        final float[] dqkv;
        final float[] dP;

        Scratch(int tokens, TransformerConfig c) {
            dO = new float[tokens * c.dim()];
            dqkv = new float[tokens * 3 * c.dim()];
            dP = new float[tokens / c.seqLen() * c.heads() * c.seqLen() * c.seqLen()];
        }
    }
}
