package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;

/** The native E4M3 codec (both kernel variants) against the Java reference {@link E4m3}, bit for bit. */
class NativeE4m3Test {

    @BeforeAll
    static void load() {
        MoeNative.cpu();
    }

    @AfterAll
    static void restoreKernel() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    static List<Integer> kernels() {
        return CpuInfo.hasAvx2() ? List.of(moe_h.MOE_CPU_KERNEL_AVX2(), moe_h.MOE_CPU_KERNEL_PORTABLE())
                : List.of(moe_h.MOE_CPU_KERNEL_PORTABLE());
    }

    static void useKernel(int kernel) {
        assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_cpu_set_kernel(kernel));
        assertEquals(kernel, CpuInfo.kernel());
    }

    @ParameterizedTest(name = "kernel {0}")
    @MethodSource("kernels")
    void decodeOfAll256CodesMatchesJavaBitForBit(int kernel) {
        useKernel(kernel);
        byte[] codes = new byte[256 + 5];  // + a tail shorter than a vector
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) i;
        }
        float[] got = NativeFp8.decode(codes);
        for (int i = 0; i < codes.length; i++) {
            assertEquals(Float.floatToRawIntBits(E4m3.decode(codes[i])), Float.floatToRawIntBits(got[i]),
                    "code 0x" + Integer.toHexString(codes[i] & 0xff));
        }
    }

    @ParameterizedTest(name = "kernel {0}")
    @MethodSource("kernels")
    void encodeOfSpecialAndRandomValuesMatchesJava(int kernel) {
        useKernel(kernel);
        SplittableRandom rnd = new SplittableRandom(kernel);
        float[] x = new float[100_003];
        float[] special = {0f, -0f, 448f, -448f, 464f, 464.1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, 0.0009765625f, 0.00097657f,
                0.0146484375f, 1.0625f, 1.1875f, 232f, Float.intBitsToFloat(0xff800001)};
        System.arraycopy(special, 0, x, 0, special.length);
        for (int i = special.length; i < x.length; i++) {
            x[i] = i % 2 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(-12, 10)));
        }
        byte[] expected = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = E4m3.encode(x[i]);
        }
        assertArrayEquals(expected, NativeFp8.encode(x));
    }

    /**
     * All 2^32 float bit patterns, 2^24 per native call. The first kernel (AVX2 where available) is
     * compared with {@link E4m3#encode} element by element; the other with the first, byte for byte.
     */
    @Test
    @Tag("exhaustive")
    void encodeOfAllFloatBitPatternsMatchesJava() {
        final int chunk = 1 << 24;
        final int parts = 16;
        final int part = chunk / parts;
        List<Integer> ks = kernels();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = arena.allocate(4L * chunk, 64);
            MemorySegment first = arena.allocate(chunk, 64);
            MemorySegment second = arena.allocate(chunk, 64);
            for (long base = 0; base < (1L << 32); base += chunk) {
                final int hi = (int) base;
                IntStream.range(0, parts).parallel().forEach(p -> {
                    for (int i = p * part; i < (p + 1) * part; i++) {
                        in.setAtIndex(ValueLayout.JAVA_INT, i, hi + i);
                    }
                });
                useKernel(ks.get(0));
                NativeFp8.encode(in, first);
                IntStream.range(0, parts).parallel().forEach(p -> {
                    for (int i = p * part; i < (p + 1) * part; i++) {
                        byte want = E4m3.encode(Float.intBitsToFloat(hi + i));
                        byte got = first.get(ValueLayout.JAVA_BYTE, i);
                        if (want != got) {
                            throw new AssertionError("kernel " + ks.get(0) + ", bits 0x" + Integer.toHexString(hi + i)
                                    + ": native 0x" + Integer.toHexString(got & 0xff) + ", Java 0x" + Integer.toHexString(want & 0xff));
                        }
                    }
                });
                if (ks.size() > 1) {
                    useKernel(ks.get(1));
                    NativeFp8.encode(in, second);
                    long at = first.mismatch(second);
                    assertEquals(-1, at, () -> "kernels differ at bits 0x" + Integer.toHexString(hi + (int) at));
                }
            }
        }
    }

    @Test
    void statusCodesForBadBuffers() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(4 * 8);
            MemorySegment b = arena.allocate(8);
            // Encoding is quantisation without scales (MOE_FP8_BLOCK_NONE).
            int none = moe_h.MOE_FP8_BLOCK_NONE();
            MemorySegment n = MemorySegment.NULL;
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cpu(f, 8, 1, 8, none, 0, b, 8, n, 0));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(f, 8, 1, 8, none, 0, b, 7, n, 0));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(f, 8, 1, 8, none, 0, b, 8, f, 1), "no scales");
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_quantize_cpu(f, -1, -1, 1, none, 0, b, -1, n, 0));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_fp8_quantize_cpu(f, 8, 1, 8, none, 1, b, 8, n, 0), "no pow2");
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_fp8_quantize_cpu(n, 8, 1, 8, none, 0, b, 8, n, 0));
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_quantize_cpu(n, 0, 0, 8, none, 0, n, 0, n, 0));
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_fp8_e4m3_decode(b, 8, f, 8));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_fp8_e4m3_decode(b, 8, f, 9));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_fp8_e4m3_decode(b, 8, MemorySegment.NULL, 8));
        }
    }

    @Test
    void segmentApiRejectsHeapAndMisalignedSegments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment heap = MemorySegment.ofArray(new float[4]);
            assertThrows(IllegalArgumentException.class, () -> NativeFp8.encode(heap, arena.allocate(4)));
            MemorySegment odd = arena.allocate(4 * 5, 4).asSlice(1, 16);
            assertThrows(IllegalArgumentException.class, () -> NativeFp8.encode(odd, arena.allocate(4)));
            assertThrows(IllegalArgumentException.class, () -> NativeFp8.encode(arena.allocate(16, 4), arena.allocate(3)));
        }
    }
}
