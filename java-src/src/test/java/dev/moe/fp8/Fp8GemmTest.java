package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.backend.Backend;
import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;

class Fp8GemmTest {
    private static final Fp8Gemm JAVA = Fp8Gemm.create(Backend.JAVA);
    private static final Fp8Gemm CPU = Fp8Gemm.create(Backend.CPU);

    @AfterAll
    static void restoreKernel() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    static QuantizedTensor quantized(SplittableRandom rnd, int rows, int cols, Fp8Block block, boolean heavy) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            double g = rnd.nextGaussian();
            x[i] = (float) (heavy ? g * Math.exp(2 * rnd.nextGaussian()) : g);
        }
        return BlockQuantizer.quantize(x, rows, cols, block, false);
    }

    /** Σ_k |a_k b_k| sa sb in FP64 per output: the scale of the rounding error of any summation order. */
    static double[][] exactAndBound(QuantizedTensor a, QuantizedTensor b) {
        int m = a.rows();
        int n = b.rows();
        int k = a.cols();
        double[][] r = new double[2][m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                double abs = 0;
                for (int q = 0; q < k; q++) {
                    double p = (double) E4m3.decode(a.codes()[i * k + q]) * a.scaleAt(i, q) * E4m3.decode(b.codes()[j * k + q])
                            * b.scaleAt(j, q);
                    s += p;
                    abs += Math.abs(p);
                }
                r[0][i * n + j] = s;
                r[1][i * n + j] = abs;
            }
        }
        return r;
    }

    static void assertClose(float[] expected, float[] actual, double[] bound, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = rel * bound[i] + 1e-30;
            assertTrue(Math.abs((double) expected[i] - actual[i]) <= tol, what + ": element " + i + " expected " + expected[i]
                    + " got " + actual[i] + " (tolerance " + tol + ")");
        }
    }

    private static final int[][] SHAPES = {{1, 1, 1}, {1, 130, 257}, {4, 5, 7}, {5, 33, 300}, {7, 129, 1000}, {13, 200, 129},
        {64, 256, 512}, {6, 16, 128}, {17, 300, 384},
        {9, 20, 200}, {6, 24, 130},  // a pair of panels whose second is partial (AVX-512)
        {1, 70, 171}, {2, 70, 300}, {4, 9, 1000},  // GEMVs: full 32-code groups, then 8s, then single codes
        {8, 70, 300},  // the widest GEMV of the BF16 build (the others: blocked)
        {32, 200, 3600}};  // decoded A beyond the L2 budget: K in steps

    static Stream<Arguments> shapes() {
        List<Arguments> list = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (int kernel : CpuInfo.kernels()) {
                list.add(Arguments.of(s[0], s[1], s[2], kernel));
            }
        }
        return list.stream();
    }

    @Test
    void avx512AndAvx2GiveTheSameBits() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuInfo.hasAvx512(), "the CPU has no AVX-512");
        for (int[] s : SHAPES) {
            SplittableRandom rnd = new SplittableRandom(5L * s[0] + s[1] + 11L * s[2]);
            QuantizedTensor a = quantized(rnd, s[0], s[2], Fp8Block.ROW_1X128, true);
            QuantizedTensor b = quantized(rnd, s[1], s[2], Fp8Block.TILE_128X128, true);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AVX512()));
            float[] wide = CPU.gemm(a, b);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AVX2()));
            assertArrayEquals(CPU.gemm(a, b), wide, "m=" + s[0] + " n=" + s[1] + " k=" + s[2]);
        }
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} kernel {3}")
    @MethodSource("shapes")
    void nativeAndReferenceAgreeWithTheFp64Product(int m, int n, int k, int kernel) {
        assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * n + k);
        for (boolean heavy : new boolean[] {false, true}) {
            QuantizedTensor a = quantized(rnd, m, k, Fp8Block.ROW_1X128, heavy);
            QuantizedTensor b = quantized(rnd, n, k, Fp8Block.TILE_128X128, heavy);
            double[][] exact = exactAndBound(a, b);
            float[] ref = JAVA.gemm(a, b);
            float[] nat = CPU.gemm(a, b);
            float[] exactF = new float[exact[0].length];
            for (int i = 0; i < exactF.length; i++) {
                exactF[i] = (float) exact[0][i];
            }
            // FP32 sums of at most 128 products per chunk, then one add per chunk: error << 1e-5 of Σ|p|.
            assertClose(exactF, ref, exact[1], 1e-5, "reference vs FP64");
            assertClose(ref, nat, exact[1], 2e-5, "native vs reference");
        }
    }

    @Test
    void vectorApiPathAgreesWithTheReference() {
        assertTrue(Fp8Gemm.vectorApiAvailable(), "surefire runs with --add-modules jdk.incubator.vector");
        Fp8Gemm vec = Fp8Gemm.vector();
        assertTrue(vec.isVector());
        SplittableRandom rnd = new SplittableRandom(77);
        for (int[] s : new int[][] {{1, 1, 1}, {5, 33, 300}, {4, 5, 7}, {9, 130, 257}, {16, 64, 1024}}) {
            QuantizedTensor a = quantized(rnd, s[0], s[2], Fp8Block.ROW_1X128, true);
            QuantizedTensor b = quantized(rnd, s[1], s[2], Fp8Block.TILE_128X128, true);
            double[][] exact = exactAndBound(a, b);
            assertClose(JAVA.gemm(a, b), vec.gemm(a, b), exact[1], 2e-5, "vector m=" + s[0] + " n=" + s[1] + " k=" + s[2]);
        }
    }

    @Test
    void extremeCodesAndZeroTiles() {
        int m = 9;
        int n = 40;
        int k = 260;
        byte[] ac = new byte[m * k];
        byte[] bc = new byte[n * k];
        for (int i = 0; i < ac.length; i++) {
            ac[i] = (byte) (i % 3 == 0 ? 0x7E : i % 3 == 1 ? 0xFE : 0x01);  // ±448 and the smallest subnormal
        }
        for (int i = 0; i < bc.length; i++) {
            bc[i] = (byte) (i % 128 < 64 ? 0x00 : 0x7E);  // zero runs and maxima
        }
        float[] sa = new float[m * 3];
        java.util.Arrays.fill(sa, 1e-4f / 448);
        float[] sb = new float[3];
        java.util.Arrays.fill(sb, 2.5f);
        QuantizedTensor a = new QuantizedTensor(m, k, Fp8Block.ROW_1X128, false, ac, sa);
        QuantizedTensor b = new QuantizedTensor(n, k, Fp8Block.TILE_128X128, false, bc, sb);
        double[][] exact = exactAndBound(a, b);
        assertClose(JAVA.gemm(a, b), CPU.gemm(a, b), exact[1], 2e-5, "extreme codes");
    }

    @Test
    void subnormalCodesKeepTheirValueOnEveryPath() {
        // Only E4M3 subnormals (|value| <= 7/512): the GEMV path turns them into FP32 subnormals times
        // 2^-120 and must not lose them; m = 2 takes that path, m = 9 the blocked one.
        SplittableRandom rnd = new SplittableRandom(21);
        for (int m : new int[] {2, 9}) {
            int n = 20;
            int k = 300;
            byte[] ac = new byte[m * k];
            byte[] bc = new byte[n * k];
            for (int i = 0; i < ac.length; i++) {
                ac[i] = (byte) (rnd.nextInt(1, 8) | (rnd.nextBoolean() ? 0x80 : 0));
            }
            for (int i = 0; i < bc.length; i++) {
                bc[i] = (byte) (rnd.nextInt(1, 8) | (rnd.nextBoolean() ? 0x80 : 0));
            }
            assertCpuMatchesFp64(ac, bc, m, n, k, 0.5f, 0.25f, "subnormal codes, m=" + m);
        }
    }

    /**
     * The cpu backend's A·Bᵀ against the FP64 product, within 2e-5·Σ|p|: A [m, k] and B [n, k] codes, every
     * 1x128 scale of A {@code sa} and every 128x128 scale of B {@code sb}.
     */
    private static void assertCpuMatchesFp64(byte[] ac, byte[] bc, int m, int n, int k, float sa, float sb, String what) {
        int kc = (k + 127) / 128;
        float[] sav = new float[m * kc];
        java.util.Arrays.fill(sav, sa);
        float[] sbv = new float[(n + 127) / 128 * kc];
        java.util.Arrays.fill(sbv, sb);
        QuantizedTensor a = new QuantizedTensor(m, k, Fp8Block.ROW_1X128, false, ac, sav);
        QuantizedTensor b = new QuantizedTensor(n, k, Fp8Block.TILE_128X128, false, bc, sbv);
        double[][] exact = exactAndBound(a, b);
        float[] exactF = new float[exact[0].length];
        for (int i = 0; i < exactF.length; i++) {
            exactF[i] = (float) exact[0][i];
        }
        assertClose(exactF, CPU.gemm(a, b), exact[1], 2e-5, what);
    }

    @ParameterizedTest(name = "kernel {0}")
    @MethodSource("kernels")
    void chunksWithAndWithoutZeroExponentCodes(int kernel) {
        // Normal codes only, except a zero or a subnormal at a position that moves from chunk to chunk (first,
        // last, and every register half of a 128-wide chunk): the BF16 GEMM decodes chunks without such codes
        // on a shorter path, and either path must give each product its value. K = 1000 ends in a partial chunk.
        SplittableRandom rnd = new SplittableRandom(41);
        int k = 1000;
        int[] positions = {0, 127, 1, 64, 63, 65, 31, 100};
        for (int m : new int[] {1, 3, 8, 9}) {
            int n = 37;
            byte[] ac = new byte[m * k];
            byte[] bc = new byte[n * k];
            for (int i = 0; i < ac.length; i++) {
                ac[i] = normalCode(rnd);
            }
            for (int r = 0; r < n; r++) {
                for (int q = 0; q < k; q++) {
                    bc[r * k + q] = normalCode(rnd);
                }
                int chunk = r % 8;  // this row's chunk with one zero-exponent code (the others have none)
                int q = chunk * 128 + positions[(r / 8) % positions.length];
                if (q < k) {
                    bc[r * k + q] = (byte) (r % 3 == 0 ? 0x00 : rnd.nextInt(1, 8) | (rnd.nextBoolean() ? 0x80 : 0));
                }
            }
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
            assertCpuMatchesFp64(ac, bc, m, n, k, 0.75f, 1.5f, "m=" + m + " kernel " + kernel);
        }
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    static Stream<Integer> kernels() {
        return CpuInfo.kernels().stream();
    }

    /** A code with a non-zero exponent field, never NaN: magnitude 8 .. 126, either sign. */
    private static byte normalCode(SplittableRandom rnd) {
        return (byte) (rnd.nextInt(8, 127) | (rnd.nextBoolean() ? 0x80 : 0));
    }

    @Test
    void emptyShapes() {
        SplittableRandom rnd = new SplittableRandom(3);
        QuantizedTensor a0 = quantized(rnd, 0, 256, Fp8Block.ROW_1X128, false);
        QuantizedTensor b = quantized(rnd, 8, 256, Fp8Block.TILE_128X128, false);
        assertEquals(0, CPU.gemm(a0, b).length);
        QuantizedTensor a = quantized(rnd, 3, 256, Fp8Block.ROW_1X128, false);
        QuantizedTensor b0 = quantized(rnd, 0, 256, Fp8Block.TILE_128X128, false);
        assertEquals(0, CPU.gemm(a, b0).length);
    }

    @Test
    void groupedLayoutsEqualPerExpertGemms() {
        SplittableRandom rnd = new SplittableRandom(5);
        int e = 4;
        int n = 48;
        int k = 200;
        List<QuantizedTensor> experts = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            experts.add(quantized(rnd, n, k, Fp8Block.TILE_128X128, false));
        }
        ExpertWeights w = ExpertWeights.of(experts);
        int[] offsets = {0, 5, 5, 12, 20};  // expert 1 gets no rows
        QuantizedTensor a = quantized(rnd, 20, k, Fp8Block.ROW_1X128, false);
        for (Fp8Gemm g : new Fp8Gemm[] {JAVA, CPU}) {
            float[] c = g.groupedContiguous(a, offsets, w);
            for (int x = 0; x < e; x++) {
                QuantizedTensor rows = slice(a, offsets[x], offsets[x + 1]);
                float[] dense = g.gemm(rows, experts.get(x));
                for (int i = 0; i < dense.length; i++) {
                    assertEquals(dense[i], c[offsets[x] * n + i], g.backend() + " contiguous expert " + x + " element " + i);
                }
            }
        }
        int maxM = 6;
        int[] counts = {6, 0, 2, 5};
        QuantizedTensor am = quantized(rnd, e * maxM, k, Fp8Block.ROW_1X128, false);
        for (Fp8Gemm g : new Fp8Gemm[] {JAVA, CPU}) {
            float[] c = g.groupedMasked(am, maxM, counts, w);
            for (int x = 0; x < e; x++) {
                float[] dense = g.gemm(slice(am, x * maxM, x * maxM + counts[x]), experts.get(x));
                for (int i = 0; i < maxM * n; i++) {
                    float want = i < dense.length ? dense[i] : 0f;
                    assertEquals(want, c[x * maxM * n + i], g.backend() + " masked expert " + x + " element " + i);
                }
            }
        }
        float[] cj = JAVA.groupedContiguous(a, offsets, w);
        float[] cc = CPU.groupedContiguous(a, offsets, w);
        for (int i = 0; i < cj.length; i++) {
            assertEquals(cj[i], cc[i], 1e-4f * (1 + Math.abs(cj[i])), "java vs cpu grouped element " + i);
        }
    }

    @Test
    void expertWeightsAreCheckedAndCopiedToNativeMemoryOncePerInstance() {
        SplittableRandom rnd = new SplittableRandom(12);
        QuantizedTensor b = quantized(rnd, 40, 130, Fp8Block.TILE_128X128, false);
        ExpertWeights w = ExpertWeights.of(List.of(b, b, b));
        QuantizedTensor a = quantized(rnd, 4, 130, Fp8Block.ROW_1X128, false);
        int[] offsets = {0, 1, 1, 4};
        float[] first = CPU.groupedContiguous(a, offsets, w);
        ExpertWeights.Native copy = w.nativeCopy();
        assertArrayEquals(w.codes(), copy.codes().toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(w.scales(), copy.scales().toArray(ValueLayout.JAVA_FLOAT));
        // Later calls read the same native copy: the per-call cost is the rows routed, not the weights held.
        assertArrayEquals(first, CPU.groupedContiguous(a, offsets, w));
        assertSame(copy, w.nativeCopy());
        // The content check runs once and gives the same answer every time.
        byte[] nan = b.codes().clone();
        nan[130 + 2] = E4m3.NAN;
        ExpertWeights bad = new ExpertWeights(1, 40, 130, nan, b.scales());
        QuantizedTensor one = quantized(rnd, 1, 130, Fp8Block.ROW_1X128, false);
        for (Fp8Gemm g : new Fp8Gemm[] {JAVA, CPU, JAVA}) {
            String msg = assertThrows(IllegalArgumentException.class, () -> g.groupedContiguous(one, new int[] {0, 1}, bad)).getMessage();
            assertEquals("expert weights: element [1, 2] holds the E4M3 NaN code 0x7f", msg);
        }
    }

    @Test
    void badInputsAreRejectedWithClearMessages() {
        SplittableRandom rnd = new SplittableRandom(9);
        QuantizedTensor a = quantized(rnd, 2, 130, Fp8Block.ROW_1X128, false);
        QuantizedTensor b = quantized(rnd, 3, 130, Fp8Block.TILE_128X128, false);
        QuantizedTensor wrongK = quantized(rnd, 3, 129, Fp8Block.TILE_128X128, false);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.gemm(a, wrongK)).getMessage().contains("inner dimensions"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.gemm(b, b)).getMessage().contains("1x128"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.gemm(a, a)).getMessage().contains("128x128"));
        byte[] nan = a.codes().clone();
        nan[131] = (byte) 0xFF;
        QuantizedTensor withNan = new QuantizedTensor(2, 130, Fp8Block.ROW_1X128, false, nan, a.scales());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CPU.gemm(withNan, b)).getMessage().contains("[1, 1]"));
        float[] inf = b.scales().clone();
        inf[1] = Float.POSITIVE_INFINITY;
        QuantizedTensor infScale = new QuantizedTensor(3, 130, Fp8Block.TILE_128X128, false, b.codes(), inf);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JAVA.gemm(a, infScale)).getMessage().contains("scale 1"));
        ExpertWeights w = ExpertWeights.of(List.of(b, b));
        assertThrows(IllegalArgumentException.class, () -> CPU.groupedContiguous(a, new int[] {0, 2}, w));
        assertThrows(IllegalArgumentException.class, () -> CPU.groupedContiguous(a, new int[] {0, 2, 1}, w));
        assertThrows(IllegalArgumentException.class, () -> CPU.groupedMasked(a, 1, new int[] {1, 2}, w));
        assertThrows(IllegalArgumentException.class, () -> ExpertWeights.of(List.of(b, wrongK)));
        if (!dev.moe.backend.Backends.status(Backend.CUDA).usable()) {
            assertThrows(dev.moe.backend.BackendUnavailableException.class, () -> Fp8Gemm.create(Backend.CUDA));
        }
        assertEquals(Backend.CPU, Fp8Gemm.create(Backend.AUTO).backend(), "auto keeps the GEMM on the CPU for now");
    }

    private static QuantizedTensor slice(QuantizedTensor a, int from, int to) {
        int k = a.cols();
        int kc = Math.ceilDiv(k, Fp8Block.TILE_COLS);
        return new QuantizedTensor(to - from, k, Fp8Block.ROW_1X128, a.pow2(),
                java.util.Arrays.copyOfRange(a.codes(), from * k, to * k), java.util.Arrays.copyOfRange(a.scales(), from * kc, to * kc));
    }
}
