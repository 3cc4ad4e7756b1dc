package dev.moe.train;

/**
 * Causal multi-head self-attention with RoPE on q and k: qkv = u·Wqkvᵀ, per sequence b and head h
 * P = softmax(mask(q·kᵀ/√h_d)), o = P·v, out = o·Woᵀ. All products go through a {@link Gemm} on views of
 * the [T, 3d] and [T, d] tensors (T = batch·seq, rows of sequence b are b·S..b·S+S−1); the softmax and its
 * gradient through the GEMM's {@link Elementwise}.
 */
final class CausalSelfAttention {
    /** Query rows per batch entry of the products with the S x S score matrix. */
    private static final int ROW_BLOCK = 64;

    private final int rowBlock;
    private final int dim;
    private final int heads;
    private final int headDim;
    private final int seq;
    private final float scale;
    private final Rope rope;
    private final Gemm gemm;
    private final Elementwise elementwise;
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
        this(c, gemm, proj, ROW_BLOCK);
    }

    /** With query rows split into blocks of {@code rowBlock} (tests use blocks shorter than their sequences). */
    CausalSelfAttention(TransformerConfig c, Gemm gemm, Projections proj, int rowBlock) {
        if (rowBlock < 1) {
            throw new IllegalArgumentException("rowBlock must be >= 1, got " + rowBlock);
        }
        this.rowBlock = rowBlock;
        this.dim = c.dim();
        this.heads = c.heads();
        this.headDim = c.headDim();
        this.seq = c.seqLen();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.rope = new Rope(seq, headDim);
        this.gemm = gemm;
        this.elementwise = gemm.elementwise();
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
        rotateQueriesAndKeys(s.qkv, t, false);
        // Scores of the block rows r0..r1 against keys 0..r1 (those after r1 are masked); o = P·v over them.
        Entries scores = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, r1, headDim, h.q + r0 * ld, h.k, h.p + r0 * seq});
        gemm.gemmBatched(false, true, scores.dims, scores.offsets, s.qkv, ld, s.qkv, ld, 0f, s.probs, seq);
        elementwise.softmaxCausal(s.probs, batch * heads, seq, scale);
        Entries pv = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, headDim, r1, h.p + r0 * seq, h.v, h.o + r0 * dim});
        gemm.gemmBatched(false, false, pv.dims, pv.offsets, s.probs, seq, s.qkv, ld, 0f, s.o, dim);
        proj.forward(s.o, 0, t, dim, p, wo, dim, out, 0);
    }

    /** RoPE (or its inverse) on every head's query and key of the t rows of x [T, 3d], a row's position being its index in its sequence. */
    private void rotateQueriesAndKeys(float[] x, int t, boolean inverse) {
        int ld = 3 * dim;
        Rows.parallel(t, (from, to) -> {
            for (int r = from; r < to; r++) {
                int pos = r % seq;
                for (int h = 0; h < heads; h++) {
                    rope.rotate(x, r * ld + h * headDim, pos, inverse);
                    rope.rotate(x, r * ld + dim + h * headDim, pos, inverse);
                }
            }
        });
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
        // Every product skips the masked (zero) part of P: dP and dq like the forward's scores and o; dv and
        // dk for key rows j0..j1 sum over the queries j0..S that can see them.
        Entries dScores = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, r1, headDim, h.o + r0 * dim, h.v, h.p + r0 * seq});
        gemm.gemmBatched(false, true, dScores.dims, dScores.offsets, w.dO, dim, s.qkv, ld, 0f, w.dP, seq);
        Entries dv = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, headDim, seq - r0, h.p + r0 * seq + r0,
                h.o + r0 * dim, h.v + r0 * ld});
        gemm.gemmBatched(true, false, dv.dims, dv.offsets, s.probs, seq, w.dO, dim, 0f, w.dqkv, ld);
        elementwise.softmaxCausalBackward(s.probs, w.dP, batch * heads, seq, scale);
        Entries dq = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, headDim, r1, h.p + r0 * seq, h.k, h.q + r0 * ld});
        gemm.gemmBatched(false, false, dq.dims, dq.offsets, w.dP, seq, s.qkv, ld, 0f, w.dqkv, ld);
        Entries dk = entries(batch, (h, r0, r1) -> new long[] {r1 - r0, headDim, seq - r0, h.p + r0 * seq + r0,
                h.q + r0 * ld, h.k + r0 * ld});
        gemm.gemmBatched(true, false, dk.dims, dk.offsets, w.dP, seq, s.qkv, ld, 0f, w.dqkv, ld);
        rotateQueriesAndKeys(w.dqkv, t, true);
        gemm.gemm(true, false, ld, dim, t, w.dqkv, 0, ld, u, 0, dim, 1f, grad, wqkv, dim);
        proj.backwardInput(w.dqkv, 0, t, ld, p, wqkv, dim, du, 0);
    }

    /** Where one head of one sequence starts: q, k, v in [T, 3d], o in [T, d], its score matrix in [B·H, S, S]. */
    private record Head(long q, long k, long v, long o, long p) {}

    /** One batch entry from a head and a block of rows r0..r1: {m, n, k, offset of A, of B, of C}. */
    private interface Entry {
        long[] of(Head h, long r0, long r1);
    }

    /** The dims and offsets of a batched product. */
    private record Entries(long[] dims, long[] offsets) {}

    /**
     * One entry per sequence, head and block of query rows: splitting the rows lets each
     * entry stop at the causal boundary of its block, which skips about 3/8 of the S² work at S = 4 blocks.
     */
    private Entries entries(int batch, Entry entry) {
        int blocks = (seq + rowBlock - 1) / rowBlock;
        int count = batch * heads * blocks;
        long[] dims = new long[3 * count];
        long[] offsets = new long[3 * count];
        int i = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                long q = (long) b * seq * 3 * dim + (long) h * headDim;
                Head head = new Head(q, q + dim, q + 2L * dim, (long) b * seq * dim + (long) h * headDim,
                        (long) (b * heads + h) * seq * seq);
                for (int r0 = 0; r0 < seq; r0 += rowBlock) {
                    long[] e = entry.of(head, r0, Math.min(seq, r0 + rowBlock));
                    System.arraycopy(e, 0, dims, 3 * i, 3);
                    System.arraycopy(e, 3, offsets, 3 * i, 3);
                    i++;
                }
            }
        }
        return new Entries(dims, offsets);
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
