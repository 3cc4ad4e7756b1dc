package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The native FP32 GEMM against the Java reference, on every kernel variant the CPU has: every transpose
 * pair, partial register tiles and blocks (sizes off the 6×16 and 6×32 tiles, the 96-row block and the
 * 256-deep k slice), views with offsets and leading dimensions wider than the rows, β = 0 and 1. Each
 * element must agree within the FP32 rounding bound of its sum, 2·k·2⁻²⁴·Σ|a||b|; the AVX-512 and AVX2
 * builds must give the same bits.
 */
class NativeGemmTest {
    private static final Gemm REF = new JavaGemm();

    /** {@return n values uniform in [-1, 1) from a seeded stream} */
    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = Math.abs(v[i]);
        }
        return a;
    }

    @ParameterizedTest
    @CsvSource({"false,false,1,1,1", "false,true,7,17,5", "true,false,13,33,257", "true,true,97,18,300",
            "false,true,200,70,513", "false,false,6,16,256", "true,false,256,64,256", "false,true,300,1030,40",
            "false,false,12,48,70", "true,true,7,33,1", "false,true,64,2100,300"})
    void agreesWithTheReference(boolean ta, boolean tb, int m, int n, int k) {
        float[] previous = null;
        try {
            for (int kernel : CpuInfo.kernels()) {
                assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
                float[] got = checkAgainstTheReference(ta, tb, m, n, k, kernel);
                // The AVX-512 and AVX2 builds run the same FMA chain per element: the same bits.
                if (previous != null && kernel == moe_h.MOE_CPU_KERNEL_AVX2()) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(previous, got, "AVX-512 and AVX2 differ");
                }
                previous = got;
            }
        } finally {
            moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
        }
    }

    /** {@return C of the last β} after checking every element of both βs against the reference. */
    private static float[] checkAgainstTheReference(boolean ta, boolean tb, int m, int n, int k, int kernel) {
        Gemm cpu = new NativeGemm();
        float[] last = null;
        int pad = 3;
        int off = 5;
        int lda = (ta ? m : k) + pad;
        int ldb = (tb ? k : n) + pad;
        int ldc = n + pad;
        float[] a = random(off + (ta ? k : m) * lda, 1);
        float[] b = random(off + (tb ? n : k) * ldb, 2);
        for (float beta : new float[] {0f, 1f}) {
            float[] c0 = random(off + m * ldc, 3);
            float[] got = c0.clone();
            float[] want = c0.clone();
            float[] bound = new float[c0.length];
            cpu.gemm(ta, tb, m, n, k, a, off, lda, b, off, ldb, beta, got, off, ldc);
            REF.gemm(ta, tb, m, n, k, a, off, lda, b, off, ldb, beta, want, off, ldc);
            REF.gemm(ta, tb, m, n, k, abs(a), off, lda, abs(b), off, ldb, 0f, bound, off, ldc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    int x = off + i * ldc + j;
                    if (j >= n) {
                        assertEquals(c0[x], got[x], "padding column written at " + i + "," + j);
                        continue;
                    }
                    double tol = 2.0 * k * Math.ulp(1f) / 2 * (bound[x] + (beta == 1f ? Math.abs(c0[x]) : 0)) + 1e-30;
                    assertTrue(Math.abs(got[x] - want[x]) <= tol, "C[" + i + "," + j + "] = " + got[x] + ", reference "
                            + want[x] + " (tolerance " + tol + ", beta " + beta + ", kernel " + kernel + ")");
                }
            }
            for (int x = 0; x < off; x++) {
                assertEquals(c0[x], got[x], "element before the view written");
            }
            last = got;
        }
        return last;
    }

    @Test
    void aBatchGivesEachEntryTheBitsOfASingleProduct() {
        Gemm cpu = new NativeGemm();
        // 24 heads of a [T, 3d] tensor, as attention's scores: enough work to run the entries in parallel.
        int heads = 24;
        int seq = 70;
        int hd = 40;
        int ld = 3 * heads * hd;
        float[] qkv = random(seq * ld, 4);
        long[] dims = new long[3 * heads];
        long[] offsets = new long[3 * heads];
        for (int h = 0; h < heads; h++) {
            dims[3 * h] = seq;
            dims[3 * h + 1] = seq;
            dims[3 * h + 2] = hd;
            offsets[3 * h] = (long) h * hd;
            offsets[3 * h + 1] = (long) heads * hd + h * hd;
            offsets[3 * h + 2] = (long) h * seq * seq;
        }
        float[] batched = new float[heads * seq * seq];
        float[] single = new float[heads * seq * seq];
        float[] reference = new float[heads * seq * seq];
        cpu.gemmBatched(false, true, dims, offsets, qkv, ld, qkv, ld, 0f, batched, seq);
        REF.gemmBatched(false, true, dims, offsets, qkv, ld, qkv, ld, 0f, reference, seq);
        for (int h = 0; h < heads; h++) {
            cpu.gemm(false, true, seq, seq, hd, qkv, h * hd, ld, qkv, heads * hd + h * hd, ld, 0f, single, h * seq * seq, seq);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(single, batched);
        for (int i = 0; i < single.length; i++) {
            assertEquals(reference[i], batched[i], 1e-4f);
        }
        long[] bad = offsets.clone();
        bad[3 * (heads - 1) + 2] = (long) heads * seq * seq;  // the last head's C past the array
        assertThrows(IllegalArgumentException.class,
                () -> cpu.gemmBatched(false, true, dims, bad, qkv, ld, qkv, ld, 0f, batched, seq));
    }

    @Test
    void emptySumsGiveZeroOrKeepC() {
        Gemm cpu = new NativeGemm();
        float[] c = {1, 2, 3, 4};
        cpu.gemm(false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, 1f, c, 0, 2);
        assertEquals(1f, c[0]);
        cpu.gemm(false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, 0f, c, 0, 2);
        assertEquals(0f, c[3]);
    }

    @Test
    void aViewPastTheArrayIsRefusedBeforeNativeCode() {
        Gemm cpu = new NativeGemm();
        float[] a = new float[6];
        float[] b = new float[6];
        float[] c = new float[3];
        var e = assertThrows(IllegalArgumentException.class, () -> cpu.gemm(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("operand C"), e.getMessage());
    }
}
