package dev.moe.train;

/**
 * FP32 matrix multiply on row-major float arrays, BLAS style: C = β·C + op(A)·op(B) with op(X) = X or
 * Xᵀ, each operand addressed by an offset and a leading dimension (the distance between rows), so that a
 * head of an attention tensor or one expert's rows is a view, never a copy.
 *
 * <p>The three forms training needs: forward {@code Y = X·Wᵀ} (transB), activation gradient
 * {@code dX = dY·W} (neither), weight gradient {@code dW += dYᵀ·X} (transA, β = 1). Implementations are
 * deterministic: the same inputs give the same bits whatever the thread count.
 */
public interface Gemm {
    /**
     * C[m×n] = β·C + op(A)[m×k]·op(B)[k×n].
     *
     * @param transA A is stored [k, m] (read transposed) instead of [m, k]
     * @param transB B is stored [n, k] (read transposed) instead of [k, n]
     * @param m      rows of C
     * @param n      columns of C
     * @param k      the summed dimension
     * @param a      A's array
     * @param aOff   A's first element
     * @param lda    A's row stride, &ge; its stored column count
     * @param b      B's array
     * @param bOff   B's first element
     * @param ldb    B's row stride
     * @param beta   0 (overwrite C) or 1 (add to C)
     * @param c      C's array
     * @param cOff   C's first element
     * @param ldc    C's row stride, &ge; n
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
              int ldb, float beta, float[] c, int cOff, int ldc);

    /**
     * A batch of products that share transposes, leading dimensions and β (the heads of an attention
     * layer, the experts of an MoE layer): entry i has sizes m, n, k = dims[3i], dims[3i+1], dims[3i+2]
     * and operands starting at offsets[3i], offsets[3i+1], offsets[3i+2] of a, b and c. Entries write
     * disjoint parts of C. Each entry gives the bits {@link #gemm} gives it; by default they run one after
     * another.
     *
     * @param transA  as for {@link #gemm}
     * @param transB  as for {@link #gemm}
     * @param dims    m, n, k of each entry
     * @param offsets first elements of A, B and C of each entry
     * @param a       A's array
     * @param lda     A's row stride
     * @param b       B's array
     * @param ldb     B's row stride
     * @param beta    0 or 1
     * @param c       C's array
     * @param ldc     C's row stride
     */
    default void gemmBatched(boolean transA, boolean transB, long[] dims, long[] offsets, float[] a, int lda, float[] b,
                             int ldb, float beta, float[] c, int ldc) {
        checkBatch(dims, offsets);
        for (int i = 0; i < dims.length / 3; i++) {
            gemm(transA, transB, (int) dims[3 * i], (int) dims[3 * i + 1], (int) dims[3 * i + 2], a, (int) offsets[3 * i], lda,
                    b, (int) offsets[3 * i + 1], ldb, beta, c, (int) offsets[3 * i + 2], ldc);
        }
    }

    /** {@return a short name for logs and benchmarks} */
    String name();

    /**
     * {@return the element-wise kernels that run beside this GEMM (its backend's); by default the Java
     * reference}
     */
    default Elementwise elementwise() {
        return Elementwise.java();
    }

    /**
     * Checks that a batch description holds whole entries of int-range values, for implementations.
     *
     * @param dims    m, n, k per entry
     * @param offsets offsets per entry
     * @throws IllegalArgumentException if the arrays differ in length, are not a multiple of 3, or hold a
     *         value outside 0..Integer.MAX_VALUE
     */
    static void checkBatch(long[] dims, long[] offsets) {
        if (dims.length % 3 != 0 || dims.length != offsets.length) {
            throw new IllegalArgumentException("a GEMM batch needs 3 sizes and 3 offsets per entry, got " + dims.length
                    + " and " + offsets.length);
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE || offsets[i] < 0 || offsets[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("GEMM batch entry " + (i / 3) + " has a size or offset out of range");
            }
        }
    }

    /**
     * Checks that every view lies inside its array, for implementations.
     *
     * @throws IllegalArgumentException naming the operand that does not fit, or a bad β or size
     */
    static void checkViews(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                           int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative GEMM size " + m + " x " + n + " x " + k);
        }
        if (beta != 0f && beta != 1f) {
            throw new IllegalArgumentException("beta must be 0 or 1, got " + beta);
        }
        checkView("A", a, aOff, transA ? k : m, transA ? m : k, lda);
        checkView("B", b, bOff, transB ? n : k, transB ? k : n, ldb);
        checkView("C", c, cOff, m, n, ldc);
    }

    private static void checkView(String name, float[] x, int off, int rows, int cols, int ld) {
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || ld < cols || last > x.length) {
            throw new IllegalArgumentException("GEMM operand " + name + ": a [" + rows + ", " + cols + "] view at offset " + off
                    + " with row stride " + ld + " does not fit an array of " + x.length);
        }
    }
}
