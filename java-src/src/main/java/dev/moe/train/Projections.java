package dev.moe.train;

/**
 * The products of a linear layer with a weight W [out, in] held in the parameter array: forward
 * y = x·Wᵀ and the activation gradient dx = dy·W. The weight gradient dW += dyᵀ·x always runs in FP32
 * through the {@link Gemm}. {@link #fp32} runs both through the Gemm; {@link Fp8Projections} runs them in
 * FP8 with block scaling, as DeepSeek-V3 trains.
 */
interface Projections {
    /**
     * y[m, out] = x[m, in] · W[out, in]ᵀ (y overwritten).
     *
     * @param x    input array
     * @param xOff first element of x
     * @param m    rows
     * @param in   input width (x's row stride)
     * @param p    the parameter array
     * @param w    offset of W in p
     * @param out  output width (y's row stride)
     * @param y    output array
     * @param yOff first element of y
     */
    void forward(float[] x, int xOff, int m, int in, float[] p, int w, int out, float[] y, int yOff);

    /**
     * dx[m, in] = dy[m, out] · W[out, in] (dx overwritten).
     *
     * @param dy    gradient of the output
     * @param dyOff first element of dy
     * @param m     rows
     * @param out   output width (dy's row stride)
     * @param p     the parameter array
     * @param w     offset of W in p
     * @param in    input width (dx's row stride)
     * @param dx    receives the input gradient
     * @param dxOff first element of dx
     */
    void backwardInput(float[] dy, int dyOff, int m, int out, float[] p, int w, int in, float[] dx, int dxOff);

    /**
     * The forward of E stacked weights W_e [out, in] (W_e at {@code w + e·out·in}) on the rows of their
     * groups: rows offsets[e]..offsets[e+1]−1 of y are those rows of x times W_eᵀ.
     *
     * @param x       input rows, width in
     * @param offsets int [E+1] group row offsets
     * @param in      input width
     * @param p       the parameter array
     * @param w       offset of W_0
     * @param out     output width
     * @param y       output rows, width out
     */
    void forwardGrouped(float[] x, int[] offsets, int in, float[] p, int w, int out, float[] y);

    /**
     * The activation gradient of {@link #forwardGrouped}: rows of dx are those rows of dy times W_e.
     *
     * @param dy      output gradient rows, width out
     * @param offsets int [E+1] group row offsets
     * @param out     output width
     * @param p       the parameter array
     * @param w       offset of W_0
     * @param in      input width
     * @param dx      receives the input gradient rows, width in
     */
    void backwardInputGrouped(float[] dy, int[] offsets, int out, float[] p, int w, int in, float[] dx);

    /** Tells cached copies of the weights that the parameters changed (after an optimizer step). */
    default void parametersChanged() {
    }

    /**
     * Both products in FP32 through a GEMM.
     *
     * @param gemm the matrix multiply
     * @return the projections
     */
    static Projections fp32(Gemm gemm) {
        return new Projections() {
            @Override
            public void forward(float[] x, int xOff, int m, int in, float[] p, int w, int out, float[] y, int yOff) {
                gemm.gemm(false, true, m, out, in, x, xOff, in, p, w, in, 0f, y, yOff, out);
            }

            @Override
            public void backwardInput(float[] dy, int dyOff, int m, int out, float[] p, int w, int in, float[] dx, int dxOff) {
                gemm.gemm(false, false, m, in, out, dy, dyOff, out, p, w, in, 0f, dx, dxOff, in);
            }

            @Override
            public void forwardGrouped(float[] x, int[] offsets, int in, float[] p, int w, int out, float[] y) {
                GroupedBatch g = GroupedBatch.of(offsets, out, in, (e, r0) -> new long[] {r0 * in, w + (long) e * out * in,
                        r0 * out});
                gemm.gemmBatched(false, true, g.dims(), g.offsets(), x, in, p, in, 0f, y, out);
            }

            @Override
            public void backwardInputGrouped(float[] dy, int[] offsets, int out, float[] p, int w, int in, float[] dx) {
                GroupedBatch g = GroupedBatch.of(offsets, in, out, (e, r0) -> new long[] {r0 * out, w + (long) e * out * in,
                        r0 * in});
                gemm.gemmBatched(false, false, g.dims(), g.offsets(), dy, out, p, in, 0f, dx, in);
            }
        };
    }
}
