package dev.moe.train;

/**
 * RMSNorm over rows of width d: y = x · rstd · g with rstd = 1/√(mean(x²) + ε). The mean square is
 * accumulated in double.
 */
final class RmsNorm {
    /** ε inside the square root. */
    static final float EPS = 1e-5f;

    private RmsNorm() {}

    /**
     * Forward.
     *
     * @param x    float [rows, d]
     * @param y    receives float [rows, d]
     * @param rstd receives each row's 1/√(mean(x²) + ε), float [rows]
     * @param p    the parameter array
     * @param g    offset of the gain [d] in {@code p}
     * @param rows number of rows
     * @param d    width
     */
    static void forward(float[] x, float[] y, float[] rstd, float[] p, int g, int rows, int d) {
        Rows.parallel(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                int o = r * d;
                double ss = 0;
                for (int j = 0; j < d; j++) {
                    ss += (double) x[o + j] * x[o + j];
                }
                float rs = (float) (1.0 / Math.sqrt(ss / d + EPS));
                rstd[r] = rs;
                for (int j = 0; j < d; j++) {
                    y[o + j] = x[o + j] * rs * p[g + j];
                }
            }
        });
    }

    /**
     * Backward: dx += ∂L/∂x and dg += ∂L/∂g given dy = ∂L/∂y.
     *
     * @param dy   float [rows, d]
     * @param x    the forward input
     * @param rstd the forward's rstd
     * @param p    the parameter array
     * @param g    offset of the gain
     * @param dx   accumulates float [rows, d]
     * @param grad the gradient array (same layout as {@code p})
     * @param rows number of rows
     * @param d    width
     */
    static void backward(float[] dy, float[] x, float[] rstd, float[] p, int g, float[] dx, float[] grad, int rows, int d) {
        // The gain's gradient sums over rows: kept in row order on this thread.
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            float rs = rstd[r];
            for (int j = 0; j < d; j++) {
                grad[g + j] += dy[o + j] * (x[o + j] * rs);
            }
        }
        Rows.parallel(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                int o = r * d;
                float rs = rstd[r];
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += (double) (dy[o + j] * p[g + j]) * (x[o + j] * rs);
                }
                float mean = (float) (dot / d);
                for (int j = 0; j < d; j++) {
                    float xhat = x[o + j] * rs;
                    dx[o + j] += rs * (dy[o + j] * p[g + j] - xhat * mean);
                }
            }
        });
    }
}
