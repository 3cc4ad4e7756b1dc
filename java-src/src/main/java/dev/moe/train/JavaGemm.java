package dev.moe.train;

/**
 * The reference {@link Gemm}: for every element of C, the K products summed in increasing k in FP32,
 * then added to β·C. Rows of C are independent, so large products split their rows over the common
 * fork-join pool without changing a bit.
 */
public final class JavaGemm implements Gemm {
    /** Work (m·n·k) below which a product runs on the calling thread. */
    private static final long PARALLEL_WORK = 1L << 18;

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                     int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        Gemm.checkViews(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        if ((long) m * n * k < PARALLEL_WORK) {
            rows(0, m, transA, transB, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            java.util.stream.IntStream.range(0, m).parallel().forEach(i ->
                    rows(i, i + 1, transA, transB, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
        }
    }

    private static void rows(int from, int to, boolean transA, boolean transB, int n, int k, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        float[] acc = new float[n];
        for (int i = from; i < to; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < k; p++) {
                float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                if (transB) {
                    for (int j = 0; j < n; j++) {
                        acc[j] += av * b[bOff + j * ldb + p];
                    }
                } else {
                    int row = bOff + p * ldb;
                    for (int j = 0; j < n; j++) {
                        acc[j] += av * b[row + j];
                    }
                }
            }
            int crow = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                c[crow + j] = beta == 0f ? acc[j] : c[crow + j] + acc[j];
            }
        }
    }

    @Override
    public String name() {
        return "java";
    }
}
