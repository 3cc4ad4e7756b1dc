package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;
import dev.moe.routing.NativeStatus;

/**
 * Calls the native FP8 GEMMs ({@code moe_fp8_*gemm_cpu} in moe.h) on Java arrays through a confined
 * arena; expert weights are read from their own native copy ({@link ExpertWeights}), never copied
 * per call. Inputs are already checked by {@link Fp8Gemm}.
 */
final class NativeFp8Gemm {
    private NativeFp8Gemm() {}

    static float[] gemm(QuantizedTensor a, QuantizedTensor b) {
        MoeNative.cpu();
        int m = a.rows();
        int n = b.rows();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            Operand sa = Operand.of(arena, a.codes(), a.scales());
            Operand sb = Operand.of(arena, b.codes(), b.scales());
            NativeStatus.check(moe_h.moe_fp8_gemm_cpu(m, n, a.cols(), sa.codes, sa.codeCount, sa.scales, sa.scaleCount, sb.codes,
                    sb.codeCount, sb.scales, sb.scaleCount, c, (long) m * n), "moe_fp8_gemm_cpu");
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Zero-copy form; the caller checked the sizes. Heap segments are refused with a clear message. */
    static void gemm(int m, int n, int k, MemorySegment aCodes, MemorySegment aScales, MemorySegment bCodes,
                     MemorySegment bScales, MemorySegment c) {
        MoeNative.cpu();
        requireNative(aCodes, aScales, bCodes, bScales, c);
        NativeStatus.check(moe_h.moe_fp8_gemm_cpu(m, n, k, aCodes, aCodes.byteSize(), aScales, aScales.byteSize() / 4, bCodes,
                bCodes.byteSize(), bScales, bScales.byteSize() / 4, c, c.byteSize() / 4), "moe_fp8_gemm_cpu");
    }

    /** Zero-copy form of the contiguous grouped GEMM; the caller checked the sizes. */
    static void groupedContiguous(int[] offsets, int n, int k, MemorySegment aCodes, MemorySegment aScales,
                                  MemorySegment wCodes, MemorySegment wScales, MemorySegment c) {
        MoeNative.cpu();
        requireNative(aCodes, aScales, wCodes, wScales, c);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment off = arena.allocate(ValueLayout.JAVA_LONG, offsets.length);
            for (int i = 0; i < offsets.length; i++) {
                off.setAtIndex(ValueLayout.JAVA_LONG, i, offsets[i]);
            }
            NativeStatus.check(moe_h.moe_fp8_grouped_gemm_contiguous_cpu(offsets.length - 1, off, offsets.length, n, k, aCodes,
                    aCodes.byteSize(), aScales, aScales.byteSize() / 4, wCodes, wCodes.byteSize(), wScales, wScales.byteSize() / 4,
                    c, c.byteSize() / 4), "moe_fp8_grouped_gemm_contiguous_cpu");
        }
    }

    static float[] groupedContiguous(QuantizedTensor a, int[] offsets, ExpertWeights w) {
        MoeNative.cpu();
        long cCount = (long) a.rows() * w.rows();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment off = arena.allocate(ValueLayout.JAVA_LONG, offsets.length);
            for (int i = 0; i < offsets.length; i++) {
                off.setAtIndex(ValueLayout.JAVA_LONG, i, offsets[i]);
            }
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, cCount);
            Operand sa = Operand.of(arena, a.codes(), a.scales());
            Operand sb = Operand.of(w);
            NativeStatus.check(moe_h.moe_fp8_grouped_gemm_contiguous_cpu(w.experts(), off, offsets.length, w.rows(), w.cols(),
                    sa.codes, sa.codeCount, sa.scales, sa.scaleCount, sb.codes, sb.codeCount, sb.scales, sb.scaleCount, c, cCount),
                    "moe_fp8_grouped_gemm_contiguous_cpu");
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    static float[] groupedMasked(QuantizedTensor a, int maxM, int[] counts, ExpertWeights w) {
        MoeNative.cpu();
        long cCount = (long) a.rows() * w.rows();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cnt = arena.allocateFrom(ValueLayout.JAVA_INT, counts);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, cCount);
            Operand sa = Operand.of(arena, a.codes(), a.scales());
            Operand sb = Operand.of(w);
            NativeStatus.check(moe_h.moe_fp8_grouped_gemm_masked_cpu(w.experts(), maxM, cnt, counts.length, w.rows(), w.cols(),
                    sa.codes, sa.codeCount, sa.scales, sa.scaleCount, sb.codes, sb.codeCount, sb.scales, sb.scaleCount, c, cCount),
                    "moe_fp8_grouped_gemm_masked_cpu");
            return c.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static void requireNative(MemorySegment... segments) {
        for (MemorySegment s : segments) {
            if (!s.isNative() && s.byteSize() > 0) {
                throw new IllegalArgumentException("the cpu FP8 GEMM needs native (off-heap) segments; got a heap segment");
            }
        }
    }

    /** Codes and scales in native memory. */
    private record Operand(MemorySegment codes, long codeCount, MemorySegment scales, long scaleCount) {
        /** The weights' own native copy, made once per instance (no per-call copy). */
        static Operand of(ExpertWeights w) {
            ExpertWeights.Native n = w.nativeCopy();
            return new Operand(n.codes(), w.codes().length, n.scales(), w.scales().length);
        }

        /** A copy into {@code arena}. */
        static Operand of(Arena arena, byte[] codes, float[] scales) {
            MemorySegment c = arena.allocate(Math.max(1, codes.length), 32);
            MemorySegment.copy(codes, 0, c, ValueLayout.JAVA_BYTE, 0, codes.length);
            MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, scales.length));
            MemorySegment.copy(scales, 0, s, ValueLayout.JAVA_FLOAT, 0, scales.length);
            return new Operand(c, codes.length, s, scales.length);
        }
    }
}
