package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.Fp8GemmArgs;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/**
 * Calls the native FP8 GEMM ({@code moe_fp8_gemm_cpu} in moe.h) on Java arrays through a confined arena,
 * or on caller-owned native segments; expert weights are read from their own native copy
 * ({@link ExpertWeights}), never copied per call. Inputs are already checked by {@link Fp8Gemm}.
 */
final class NativeFp8Gemm {
    private NativeFp8Gemm() {}

    static float[] gemm(QuantizedTensor a, QuantizedTensor b) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) a.rows() * b.rows());
            run(args(arena).dense(a.rows(), b.rows(), a.cols()), arena, a.codes(), a.scales(), b.codes(), b.scales(), c);
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Zero-copy form; the caller checked the sizes. Heap segments are refused with a clear message. */
    static void gemm(int m, int n, int k, MemorySegment aCodes, MemorySegment aScales, MemorySegment bCodes,
                     MemorySegment bScales, MemorySegment c) {
        try (Arena arena = Arena.ofConfined()) {
            run(args(arena).dense(m, n, k), aCodes, aScales, bCodes, bScales, c);
        }
    }

    /** Zero-copy form of the contiguous grouped GEMM; the caller checked the sizes. */
    static void groupedContiguous(int[] offsets, int n, int k, MemorySegment aCodes, MemorySegment aScales,
                                  MemorySegment wCodes, MemorySegment wScales, MemorySegment c) {
        try (Arena arena = Arena.ofConfined()) {
            run(args(arena).contiguous(offsets(arena, offsets), offsets.length - 1, n, k), aCodes, aScales, wCodes, wScales, c);
        }
    }

    static float[] groupedContiguous(QuantizedTensor a, int[] offsets, ExpertWeights w) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) a.rows() * w.rows());
            ExpertWeights.Native nw = w.nativeCopy();
            run(args(arena).contiguous(offsets(arena, offsets), w.experts(), w.rows(), w.cols()), codes(arena, a.codes()),
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, a.scales()), nw.codes(), nw.scales(), c);
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    static float[] groupedMasked(QuantizedTensor a, int maxM, int[] counts, ExpertWeights w) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) a.rows() * w.rows());
            ExpertWeights.Native nw = w.nativeCopy();
            run(args(arena).masked(w.experts(), maxM, arena.allocateFrom(ValueLayout.JAVA_INT, counts), w.rows(), w.cols()),
                    codes(arena, a.codes()), arena.allocateFrom(ValueLayout.JAVA_FLOAT, a.scales()), nw.codes(), nw.scales(), c);
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static Fp8GemmArgs args(Arena arena) {
        MoeNative.cpu();
        return Fp8GemmArgs.allocate(arena, moe_h.MOE_GEMM_KERNEL_CPU());
    }

    private static MemorySegment offsets(Arena arena, int[] offsets) {
        MemorySegment off = arena.allocate(ValueLayout.JAVA_LONG, offsets.length);
        for (int i = 0; i < offsets.length; i++) {
            off.setAtIndex(ValueLayout.JAVA_LONG, i, offsets[i]);
        }
        return off;
    }

    /** Codes and scales copied into native memory, then the call. */
    private static void run(Fp8GemmArgs args, Arena arena, byte[] aCodes, float[] aScales, byte[] bCodes, float[] bScales,
                            MemorySegment c) {
        run(args, codes(arena, aCodes), arena.allocateFrom(ValueLayout.JAVA_FLOAT, aScales), codes(arena, bCodes),
                arena.allocateFrom(ValueLayout.JAVA_FLOAT, bScales), c);
    }

    private static void run(Fp8GemmArgs args, MemorySegment aCodes, MemorySegment aScales, MemorySegment bCodes, MemorySegment bScales,
                            MemorySegment c) {
        requireNative(aCodes, aScales, bCodes, bScales, c);
        args.operands(aCodes, aCodes.byteSize(), aScales, aScales.byteSize() / 4, bCodes, bCodes.byteSize(), bScales,
                bScales.byteSize() / 4, c, c.byteSize() / 4);
        NativeStatus.check(moe_h.moe_fp8_gemm_cpu(args.segment()), "moe_fp8_gemm_cpu");
    }

    /** Codes in native memory, 32-byte aligned for the kernel's vector loads. */
    private static MemorySegment codes(Arena arena, byte[] codes) {
        MemorySegment s = arena.allocate(Math.max(1, codes.length), 32).asSlice(0, codes.length);
        MemorySegment.copy(codes, 0, s, ValueLayout.JAVA_BYTE, 0, codes.length);
        return s;
    }

    private static void requireNative(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (!s.isNative() && s.byteSize() > 0) {
                throw new IllegalArgumentException("the cpu FP8 GEMM needs native (off-heap) segments; got a heap segment");
            }
        }
    }
}
