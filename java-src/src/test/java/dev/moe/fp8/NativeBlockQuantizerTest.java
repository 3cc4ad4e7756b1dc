package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;

/** The native block quantiser (both kernel variants) against {@link BlockQuantizer}: codes and scales bit for bit. */
class NativeBlockQuantizerTest {

    @BeforeAll
    static void load() {
        MoeNative.cpu();
    }

    @AfterAll
    static void restoreKernel() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 1}, {3, 130}, {129, 257}, {256, 384}, {2, 7}, {130, 128}, {300, 1000}};
        return NativeE4m3Test.kernels().stream().flatMap(k -> Stream.of(shapes).flatMap(s -> Stream.of(Fp8Block.values())
                .flatMap(b -> Stream.of(false, true).map(p -> Arguments.of(k, s[0], s[1], b, p)))));
    }

    /** Seeded data over many magnitudes, with the awkward cases planted: zero tiles, -0, one huge value, float subnormals. */
    static float[] data(int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-20, 20)));
        }
        if (cols > 128) {
            for (int r = 0; r < rows; r++) {  // the second column tile: zeros and negative zeros only
                for (int c = 128; c < Math.min(cols, 256); c++) {
                    x[r * cols + c] = (c & 1) == 0 ? 0f : -0f;
                }
            }
        }
        if (x.length > 3) {
            x[x.length / 2] = 3.0e38f;
            x[1] = -0f;
            x[2] = Float.MIN_VALUE;
            x[3] = -1e-41f;
        }
        return x;
    }

    @ParameterizedTest(name = "kernel {0}: {1}x{2} {3} pow2={4}")
    @MethodSource("cases")
    void nativeMatchesTheReference(int kernel, int rows, int cols, Fp8Block block, boolean pow2) {
        NativeE4m3Test.useKernel(kernel);
        float[] x = data(rows, cols, 31L * rows + cols);
        QuantizedTensor expected = BlockQuantizer.quantize(x, rows, cols, block, pow2);
        QuantizedTensor got = NativeFp8.quantize(x, rows, cols, block, pow2);
        assertArrayEquals(expected.scales(), got.scales(), "scales");
        assertArrayEquals(expected.codes(), got.codes(), "codes");
        assertEquals(expected, got);
    }

    @Test
    void exactTiesAfterScalingRoundToEvenOnEveryKernel() {
        // amax 448 makes the scale exactly 1, so x / scale = x and these are ties of E4M3 rounding.
        float[] ties = {448f, 1.0625f, 1.1875f, 248f, 0.0146484375f, 0.0009765625f, 0.0029296875f, -1.0625f, -248f, 3.375f, 17f};
        float[] want = {448f, 1.0f, 1.25f, 256f, 0.015625f, 0f, 0.00390625f, -1.0f, -256f, 3.5f, 16f};
        float[] x = new float[3 * 16];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(ties, 0, x, r * 16, ties.length);  // vector body and scalar tail both see ties
            System.arraycopy(ties, 0, x, r * 16 + 5, ties.length);
        }
        for (int kernel : NativeE4m3Test.kernels()) {
            NativeE4m3Test.useKernel(kernel);
            QuantizedTensor t = NativeFp8.quantize(x, 3, 16, Fp8Block.ROW_1X128, false);
            assertArrayEquals(new float[] {1f, 1f, 1f}, t.scales());
            float[] d = BlockQuantizer.dequantize(t);
            for (int i = 0; i < ties.length; i++) {
                assertEquals(want[i], d[2 * 16 + 5 + i], "kernel " + kernel + ": " + ties[i]);
            }
            assertEquals(BlockQuantizer.quantize(x, 3, 16, Fp8Block.ROW_1X128, false), t);
        }
    }

    @Test
    void facadeChoosesBackends() {
        assertEquals(Backend.JAVA, Fp8Quantizer.create(Backend.JAVA).backend());
        assertEquals(Backend.CPU, Fp8Quantizer.create(Backend.CPU).backend());
        boolean gpu = dev.moe.backend.Backends.status(Backend.CUDA).usable();
        assertEquals(gpu ? Backend.CUDA : Backend.CPU, Fp8Quantizer.create(Backend.AUTO).backend(), "the native library loads in tests");
        if (!gpu) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Fp8Quantizer.create(Backend.CUDA));
            assertTrue(e.getMessage().contains("cuda") && e.getMessage().contains("not available"), e.getMessage());
        }
        float[] x = data(40, 300, 9);
        QuantizedTensor expected = BlockQuantizer.quantize(x, 40, 300, Fp8Block.ROW_1X128, true);
        assertEquals(expected, Fp8Quantizer.create(Backend.JAVA).quantize(x, 40, 300, Fp8Block.ROW_1X128, true));
        assertEquals(expected, Fp8Quantizer.create(Backend.CPU).quantize(x, 40, 300, Fp8Block.ROW_1X128, true));
        for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
                MemorySegment q = arena.allocate(x.length);
                MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 40 * 3);
                Fp8Quantizer.create(b).quantize(xs, 40, 300, Fp8Block.ROW_1X128, true, q, s);
                assertArrayEquals(expected.codes(), q.toArray(ValueLayout.JAVA_BYTE), b.cliName());
                assertArrayEquals(expected.scales(), s.toArray(ValueLayout.JAVA_FLOAT), b.cliName());
                assertThrows(IllegalArgumentException.class,
                        () -> Fp8Quantizer.create(b).quantize(xs, 40, 300, Fp8Block.TILE_128X128, true, q, s), "wrong scale count");
            }
        }
    }

    @Test
    void nonFiniteInputIsNamedBeforeTheNativeCallAndRejectedByIt() {
        float[] x = new float[5 * 200];
        x[3 * 200 + 150] = Float.NEGATIVE_INFINITY;
        NonFiniteTensorException e = assertThrows(NonFiniteTensorException.class,
                () -> NativeFp8.quantize(x, 5, 200, Fp8Block.TILE_128X128, false));
        assertEquals(3, e.row());
        assertEquals(150, e.column());
        for (int kernel : NativeE4m3Test.kernels()) {
            NativeE4m3Test.useKernel(kernel);
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                for (int at : new int[] {0, 7, 8, 999}) {  // vector body and scalar tail
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment xs = arena.allocate(ValueLayout.JAVA_FLOAT, 1000);
                        xs.setAtIndex(ValueLayout.JAVA_FLOAT, at, bad);
                        int st = moe_h.moe_fp8_quantize_cpu(xs, 1000, 5, 200, moe_h.MOE_FP8_BLOCK_1X128(), 0,
                                arena.allocate(1000), 1000, arena.allocate(ValueLayout.JAVA_FLOAT, 10), 10);
                        assertEquals(moe_h.MOE_STATUS_NON_FINITE_INPUT(), st, bad + " at " + at);
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsGiveStatusCodesAndClearExceptions() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(ValueLayout.JAVA_FLOAT, 6);
            MemorySegment q = arena.allocate(6);
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, 2);
            int row = moe_h.MOE_FP8_BLOCK_1X128();
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, row, 0, q, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, moe_h.MOE_FP8_BLOCK_128X128(), 1, q, 6, s, 1));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, row, 0, q, 6, s, 1));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(x, 6, 3, 3, row, 0, q, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, row, 0, q, 5, s, 2));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(x, 6, -2, -3, row, 0, q, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, 7, 0, q, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, row, 2, q, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_fp8_quantize_cpu(x, 6, 2, 3, row, 0, MemorySegment.NULL, 6, s, 2));
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cpu(MemorySegment.NULL, 0, 0, 3, row, 0,
                    MemorySegment.NULL, 0, MemorySegment.NULL, 0));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NativeFp8.quantize(x, 2, 3, Fp8Block.ROW_1X128, false, q, arena.allocate(ValueLayout.JAVA_FLOAT, 3)));
            assertTrue(e.getMessage().contains("2 scales") || e.getMessage().contains("needs 6 code bytes and 2 scales"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> NativeFp8.quantize(x, 4, 3, Fp8Block.ROW_1X128, false, q, s));
            assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> NativeFp8.quantize(new float[5], 2, 3, Fp8Block.ROW_1X128, false));
        }
    }
}
