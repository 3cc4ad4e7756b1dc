package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

import dev.moe.train.Elementwise;
import dev.moe.train.Gemm;

/**
 * {@code bench train} must time what training runs: a batch reaches the inner GEMM as one call (a native
 * GEMM runs its entries in parallel), and the inner GEMM's element-wise kernels are the ones used.
 */
class TimedGemmTest {
    /** Counts calls; computes nothing. */
    private static final class CountingGemm implements Gemm {
        int single;
        int batched;
        final Elementwise elementwise = Elementwise.java();

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                         int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            single++;
        }

        @Override
        public void gemmBatched(boolean transA, boolean transB, long[] dims, long[] offsets, float[] a, int lda,
                                float[] b, int ldb, float beta, float[] c, int ldc) {
            batched++;
        }

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Elementwise elementwise() {
            return elementwise;
        }
    }

    @Test
    void forwardsBatchesWholeAndCountsTheirFlops() {
        CountingGemm inner = new CountingGemm();
        BenchTrainCommand.TimedGemm timed = new BenchTrainCommand.TimedGemm(inner);
        float[] x = new float[64];
        timed.gemmBatched(false, false, new long[] {2, 3, 4, 1, 1, 5}, new long[6], x, 8, x, 8, 0f, x, 8);
        assertArrayEquals(new int[] {0, 1}, new int[] {inner.single, inner.batched});
        assertEquals(2.0 * (2 * 3 * 4 + 5), timed.flops());
        timed.gemm(false, false, 2, 2, 2, x, 0, 8, x, 0, 8, 0f, x, 0, 8);
        assertEquals(1, inner.single);
        assertEquals(2.0 * (2 * 3 * 4 + 5 + 8), timed.flops());
        assertSame(inner.elementwise, timed.elementwise());
    }
}
