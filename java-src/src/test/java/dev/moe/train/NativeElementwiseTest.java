package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The native element-wise kernels against the Java reference, bit for bit, on every kernel variant the CPU
 * has: seeded random rows of widths off the 8-lane vectors (vector body and scalar tail), sizes large
 * enough to run on several threads, and hand-made cases (ties, scores whose exponentials underflow,
 * infinities and NaN, empty inputs).
 */
class NativeElementwiseTest {
    private static final Elementwise REF = Elementwise.java();

    @BeforeAll
    static void load() {
        MoeNative.cpu();
    }

    @AfterEach
    void autoKernel() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    private static float[] gaussian(int n, double sd, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (sd * r.nextGaussian());
        }
        return v;
    }

    /** Same bits, NaNs compared as NaN (their payloads are not specified). */
    private static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", the reference gives " + want[i]);
            }
        }
    }

    private static void onEveryKernel(java.util.function.IntConsumer check) {
        for (int kernel : CpuInfo.kernels()) {
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
            check.accept(kernel);
        }
    }

    private static void checkSwiglu(float[] h13, float[] dact, int rows, int width) {
        float[] act = new float[rows * width];
        float[] dh13 = new float[rows * 2 * width];
        REF.swigluForward(h13, act, rows, width);
        REF.swigluBackward(dact, h13, dh13, rows, width);
        onEveryKernel(kernel -> {
            Elementwise cpu = new NativeElementwise();
            float[] got = new float[act.length];
            cpu.swigluForward(h13, got, rows, width);
            assertSameBits(act, got, "SwiGLU forward, kernel " + kernel + ", " + rows + "x" + width);
            got = new float[dh13.length];
            cpu.swigluBackward(dact, h13, got, rows, width);
            assertSameBits(dh13, got, "SwiGLU backward, kernel " + kernel + ", " + rows + "x" + width);
        });
    }

    @ParameterizedTest
    @CsvSource({"1,1", "3,7", "5,8", "9,13", "17,128", "700,96", "64,300"})
    void swigluMatchesTheReference(int rows, int width) {
        checkSwiglu(gaussian(rows * 2 * width, 4, rows + 31L * width), gaussian(rows * width, 1, 7), rows, width);
    }

    @Test
    void swigluEdgeValues() {
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 30f, -30f, 90f, -90f, 200f, -200f, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, 88.7f, -88.7f, 1f, -1f};
        int width = special.length;
        int rows = 2;
        float[] h13 = new float[rows * 2 * width];
        for (int c = 0; c < width; c++) {
            h13[c] = special[c];                              // h1 of row 0
            h13[width + c] = 1.5f;                            // h3 of row 0
            h13[2 * width + c] = 0.75f;                       // h1 of row 1
            h13[3 * width + c] = special[width - 1 - c];      // h3 of row 1
        }
        float[] dact = gaussian(rows * width, 1, 3);
        dact[5] = Float.NaN;
        dact[width + 2] = Float.POSITIVE_INFINITY;
        checkSwiglu(h13, dact, rows, width);
        checkSwiglu(new float[0], new float[0], 0, 16);
    }

    private static void checkSoftmax(float[] scores, float[] dp, int count, int seq, float scale) {
        float[] p = scores.clone();
        REF.softmaxCausal(p, count, seq, scale);
        float[] ds = dp.clone();
        REF.softmaxCausalBackward(p, ds, count, seq, scale);
        onEveryKernel(kernel -> {
            Elementwise cpu = new NativeElementwise();
            float[] got = scores.clone();
            cpu.softmaxCausal(got, count, seq, scale);
            assertSameBits(p, got, "softmax, kernel " + kernel + ", " + count + "x" + seq);
            float[] gotD = dp.clone();
            cpu.softmaxCausalBackward(p, gotD, count, seq, scale);
            assertSameBits(ds, gotD, "softmax backward, kernel " + kernel + ", " + count + "x" + seq);
        });
    }

    @ParameterizedTest
    @CsvSource({"1,1", "2,7", "3,8", "1,9", "4,23", "16,64", "3,130"})
    void softmaxMatchesTheReference(int count, int seq) {
        int n = count * seq * seq;
        float[] scores = gaussian(n, 6, 11L * seq + count);
        // Garbage above the diagonal must be ignored and zeroed.
        for (int m = 0; m < count; m++) {
            for (int i = 0; i < seq; i++) {
                for (int j = i + 1; j < seq; j++) {
                    scores[(m * seq + i) * seq + j] = Float.NaN;
                }
            }
        }
        checkSoftmax(scores, gaussian(n, 1, 5), count, seq, 0.125f);
    }

    @Test
    void softmaxRowsSumToOneAndMaskTheFuture() {
        int seq = 37;
        float[] p = gaussian(2 * seq * seq, 3, 1);
        new NativeElementwise().softmaxCausal(p, 2, seq, 0.5f);
        for (int r = 0; r < 2 * seq; r++) {
            int i = r % seq;
            double sum = 0;
            for (int j = 0; j < seq; j++) {
                float v = p[r * seq + j];
                assertTrue(j <= i ? v > 0 : v == 0f, "row " + r + " column " + j + ": " + v);
                sum += v;
            }
            assertEquals(1.0, sum, 1e-5, "row " + r);
        }
    }

    @Test
    void softmaxEdgeValues() {
        int seq = 19;
        float[] scores = new float[seq * seq];
        for (int i = 0; i < seq; i++) {
            for (int j = 0; j <= i; j++) {
                int at = i * seq + j;
                // Ties, a lone maximum far above the rest (their exponentials underflow to subnormals or 0),
                // huge finite values.
                scores[at] = switch (i % 4) {
                    case 0 -> 2.5f;
                    case 1 -> j == i / 2 ? 1000f : -1000f + j;
                    case 2 -> j % 2 == 0 ? Float.MAX_VALUE : -Float.MAX_VALUE;
                    default -> j == 0 ? 0f : -700f - 3 * j;
                };
            }
        }
        checkSoftmax(scores, gaussian(seq * seq, 1, 9), 1, seq, 0.125f);
        checkSoftmax(scores, gaussian(seq * seq, 1, 9), 1, seq, 1f);
        checkSoftmax(new float[0], new float[0], 0, 5, 1f);
    }

    @Test
    void aNonFiniteScoreIsAnErrorInBothTwins() {
        int seq = 12;
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (int at : new int[] {0, 11 * seq + 3, 11 * seq + 11}) {
                float[] scores = gaussian(seq * seq, 1, 2);
                scores[at] = bad;
                assertThrows(IllegalArgumentException.class, () -> REF.softmaxCausal(scores.clone(), 1, seq, 1f));
                onEveryKernel(kernel -> {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> new NativeElementwise().softmaxCausal(scores.clone(), 1, seq, 1f), "kernel " + kernel);
                    assertTrue(e.getMessage().contains("not finite"), e.getMessage());
                });
            }
        }
    }

    @Test
    void badShapesAreRejectedInJava() {
        Elementwise cpu = new NativeElementwise();
        assertThrows(IllegalArgumentException.class, () -> cpu.swigluForward(new float[15], new float[8], 1, 8));
        assertThrows(IllegalArgumentException.class, () -> cpu.swigluForward(new float[16], new float[7], 1, 8));
        assertThrows(IllegalArgumentException.class, () -> cpu.swigluBackward(new float[7], new float[16], new float[16], 1, 8));
        assertThrows(IllegalArgumentException.class, () -> cpu.swigluForward(new float[16], new float[8], -1, 8));
        assertThrows(IllegalArgumentException.class, () -> cpu.softmaxCausal(new float[8], 1, 3, 1f));
        assertThrows(IllegalArgumentException.class, () -> cpu.softmaxCausal(new float[9], 1, 3, 0f));
        assertThrows(IllegalArgumentException.class, () -> cpu.softmaxCausal(new float[9], 1, 3, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> cpu.softmaxCausalBackward(new float[8], new float[9], 1, 3, 1f));
    }

    @Test
    void theAbiChecksItsArguments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nul = MemorySegment.NULL;
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 9);
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_softmax_causal_cpu(2, 1, 3, 1f, nul, 0, x, 9));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_softmax_causal_cpu(0, 1, 3, -1f, nul, 0, x, 9));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_softmax_causal_cpu(0, 1, 3, 1f, nul, 0, x, 8));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_softmax_causal_cpu(1, 1, 3, 1f, nul, 8, x, 9));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_softmax_causal_cpu(1, 1, 3, 1f, nul, 9, x, 9));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(),
                    moe_h.moe_softmax_causal_cpu(0, Long.MAX_VALUE / 2, 1L << 40, 1f, nul, 0, x, 9));
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_softmax_causal_cpu(0, 0, 3, 1f, nul, 0, nul, 0));
            MemorySegment h = arena.allocate(ValueLayout.JAVA_FLOAT, 16);
            MemorySegment o = arena.allocate(ValueLayout.JAVA_FLOAT, 16);
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_swiglu_cpu(-1, 1, 8, h, 16, nul, 0, o, 16));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_swiglu_cpu(0, 1, 8, h, 15, nul, 0, o, 16));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_swiglu_cpu(1, 1, 8, h, 16, nul, 0, o, 16));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_swiglu_cpu(1, 1, 8, h, 16, nul, 8, o, 16));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_swiglu_cpu(0, Long.MAX_VALUE, 8, h, 16, nul, 0, o, 16));
            o.fill((byte) 0x7f);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_swiglu_cpu(0, 1, 8, h, 16, nul, 0, o, 8));
            assertEquals(0f, o.getAtIndex(ValueLayout.JAVA_FLOAT, 3));  // silu(0)·0
        }
    }
}
