package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/**
 * The native CPU FP8 kernels ({@code moe_fp8_quantize_cpu}, {@code moe_fp8_e4m3_decode} in moe.h; plain
 * encoding is quantisation without scales): on caller-owned native segments without copies, and on Java
 * arrays through a confined arena. The kernel variant (AVX2, also under AVX512, or portable) is the process-wide one of
 * {@code moe_cpu_set_kernel}.
 */
final class NativeFp8 {
    private NativeFp8() {}

    /** Encodes every float of {@code in} into the byte at the same index of {@code out} (quantisation without scales). */
    static void encode(MemorySegment in, MemorySegment out) {
        MoeNative.cpu();
        long n = floatCount(requireNative(in, "in", 4));
        NativeStatus.check(moe_h.moe_fp8_quantize_cpu(in, n, 1, n, moe_h.MOE_FP8_BLOCK_NONE(), 0, requireNative(out, "out", 1),
                out.byteSize(), MemorySegment.NULL, 0),
                "moe_fp8_quantize_cpu (encode)");
    }

    /** Decodes every byte of {@code in} into the float at the same index of {@code out}. */
    static void decode(MemorySegment in, MemorySegment out) {
        MoeNative.cpu();
        long n = floatCount(requireNative(out, "out", 4));
        NativeStatus.check(moe_h.moe_fp8_e4m3_decode(requireNative(in, "in", 1), in.byteSize(), out, n), "moe_fp8_e4m3_decode");
    }

    /**
     * Block-quantises x float32 [rows, cols] into q (rows * cols bytes) and scales (one float per tile).
     * Non-finite input: the kernel reports it, then a Java scan names the first bad element in the error.
     */
    static void quantize(MemorySegment x, long rows, long cols, Fp8Block block, boolean pow2, MemorySegment q,
                         MemorySegment scales) {
        MoeNative.cpu();
        long n = floatCount(requireNative(x, "x", 4));
        if (rows < 0 || cols < 0 || Math.multiplyHigh(rows, cols) != 0 || rows * cols != n) {
            throw new IllegalArgumentException("FP8 quantisation: shape [" + rows + ", " + cols + "] does not hold the "
                    + n + " input values");
        }
        long nq = requireNative(q, "q", 1).byteSize();
        long ns = floatCount(requireNative(scales, "scales", 4));
        if (nq != n || ns != block.scaleCount(rows, cols)) {
            throw new IllegalArgumentException("FP8 quantisation of [" + rows + ", " + cols + "] in " + block.cliName()
                    + " tiles needs " + n + " code bytes and " + block.scaleCount(rows, cols) + " scales, got " + nq
                    + " and " + ns);
        }
        int status = moe_h.moe_fp8_quantize_cpu(x, n, rows, cols, block.nativeCode(), pow2 ? 1 : 0, q, nq, scales, ns);
        if (status == moe_h.MOE_STATUS_NON_FINITE_INPUT()) {
            // The kernel checks every element anyway (and writes nothing meaningful then); only this rare
            // path pays for a Java scan, to name the first bad element.
            requireFinite(x, cols);
        }
        NativeStatus.check(status, "moe_fp8_quantize_cpu");
    }

    /** Array form of {@link #encode(MemorySegment, MemorySegment)}. */
    static byte[] encode(float[] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = allocate(arena, 4L * x.length, 4);
            MemorySegment.copy(x, 0, in, ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment out = allocate(arena, x.length, 1);
            encode(in, out);
            return out.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Array form of {@link #decode(MemorySegment, MemorySegment)}. */
    static float[] decode(byte[] codes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = allocate(arena, codes.length, 1);
            MemorySegment.copy(codes, 0, in, ValueLayout.JAVA_BYTE, 0, codes.length);
            MemorySegment out = allocate(arena, 4L * codes.length, 4);
            decode(in, out);
            return out.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Array form of {@link #quantize(MemorySegment, long, long, Fp8Block, boolean, MemorySegment, MemorySegment)}. */
    static QuantizedTensor quantize(float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        BlockQuantizer.requireShape(x, rows, cols);
        BlockQuantizer.requireFinite(x, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = allocate(arena, 4L * x.length, 4);
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment q = allocate(arena, x.length, 1);
            MemorySegment s = allocate(arena, 4 * block.scaleCount(rows, cols), 4);
            quantize(xs, rows, cols, block, pow2, q, s);
            return new QuantizedTensor(rows, cols, block, pow2, q.toArray(ValueLayout.JAVA_BYTE), s.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    /** Zero-length allocations are sliced from one byte so every segment has a real address. */
    private static MemorySegment allocate(Arena arena, long bytes, long alignment) {
        return arena.allocate(Math.max(1, bytes), Math.max(alignment, 64)).asSlice(0, bytes);
    }

    static void requireFinite(MemorySegment x, long cols) {
        long n = x.byteSize() / 4;
        for (long i = 0; i < n; i++) {
            float v = x.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
                throw new NonFiniteTensorException(i / cols, i % cols, v);
            }
        }
    }

    private static long floatCount(MemorySegment s) {
        if (s.byteSize() % 4 != 0) {
            throw new IllegalArgumentException("float segment of " + s.byteSize() + " bytes is not a whole number of floats");
        }
        return s.byteSize() / 4;
    }

    private static MemorySegment requireNative(MemorySegment s, String what, int alignment) {
        if (!s.isNative()) {
            throw new IllegalArgumentException(what + ": the native FP8 kernels need an off-heap segment; use the array API for heap data");
        }
        if (s.address() % alignment != 0) {
            throw new IllegalArgumentException(what + ": segment address is not " + alignment + "-byte aligned");
        }
        return s;
    }
}
