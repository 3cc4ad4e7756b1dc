package dev.moe.nativecall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_fp8_gemm_args;
import dev.moe.bindings.moe_h;

/**
 * One {@code moe_fp8_gemm_args} struct (moe.h), filled step by step: a kernel, one layout with its shapes,
 * the operands with their element counts, and for CUDA the device and stream. The operand roles are the
 * forward pass's (K-major activations with 1×128 scales, K-major weights with 128×128 scales), packed.
 * The same struct goes to {@code moe_fp8_gemm_cpu}, {@code moe_fp8_gemm_cuda} and the tests' host twin.
 */
public final class Fp8GemmArgs {
    private final MemorySegment s;

    private Fp8GemmArgs(MemorySegment s) {
        this.s = s;
    }

    /**
     * A struct in {@code arena} for {@code kernel}, without shapes or operands yet.
     *
     * @param arena  where the struct lives
     * @param kernel MOE_GEMM_KERNEL_*
     * @return the arguments
     */
    public static Fp8GemmArgs allocate(Arena arena, int kernel) {
        MemorySegment s = moe_fp8_gemm_args.allocate(arena);
        moe_fp8_gemm_args.struct_size(s, (int) moe_fp8_gemm_args.sizeof());
        moe_fp8_gemm_args.kernel(s, kernel);
        moe_fp8_gemm_args.a_major(s, moe_h.MOE_GEMM_MAJOR_K());
        moe_fp8_gemm_args.b_major(s, moe_h.MOE_GEMM_MAJOR_K());
        moe_fp8_gemm_args.a_scale_block(s, moe_h.MOE_FP8_BLOCK_1X128());
        moe_fp8_gemm_args.b_scale_block(s, moe_h.MOE_FP8_BLOCK_128X128());
        return new Fp8GemmArgs(s);
    }

    /**
     * One C [m, n] = A [m, k] · B [n, k]ᵀ.
     *
     * @return these arguments
     */
    public Fp8GemmArgs dense(long m, long n, long k) {
        return layout(moe_h.MOE_GEMM_LAYOUT_DENSE(), m, n, k);
    }

    /**
     * Groups over the rows of A and C: group e owns rows {@code offsets[e] .. offsets[e+1]-1}.
     *
     * @param offsets host int64 [groups + 1]
     * @param groups  E
     * @param n       output columns per group
     * @param k       the reduction dimension
     * @return these arguments
     */
    public Fp8GemmArgs contiguous(MemorySegment offsets, long groups, long n, long k) {
        moe_fp8_gemm_args.groups(s, groups);
        moe_fp8_gemm_args.offsets(s, offsets);
        return layout(moe_h.MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS(), offsets.getAtIndex(ValueLayout.JAVA_LONG, groups), n, k);
    }

    /**
     * Groups of {@code maxM} row slots, group e using its first {@code counts[e]}.
     *
     * @param groups E
     * @param maxM   row slots per group
     * @param counts int32 [groups], device memory for CUDA
     * @param n      output columns per group
     * @param k      the reduction dimension
     * @return these arguments
     */
    public Fp8GemmArgs masked(long groups, long maxM, MemorySegment counts, long n, long k) {
        moe_fp8_gemm_args.groups(s, groups);
        moe_fp8_gemm_args.max_m(s, maxM);
        moe_fp8_gemm_args.counts(s, counts);
        return layout(moe_h.MOE_GEMM_LAYOUT_GROUPED_MASKED(), groups * maxM, n, k);
    }

    private Fp8GemmArgs layout(int layout, long m, long n, long k) {
        moe_fp8_gemm_args.layout(s, layout);
        moe_fp8_gemm_args.m(s, m);
        moe_fp8_gemm_args.n(s, n);
        moe_fp8_gemm_args.k(s, k);
        return this;
    }

    /**
     * The operands: codes and scales of A and B, and C, each with its element count.
     *
     * @return these arguments
     */
    public Fp8GemmArgs operands(MemorySegment a, long aCount, MemorySegment aScales, long aScalesCount, MemorySegment b, long bCount,
                                MemorySegment bScales, long bScalesCount, MemorySegment c, long cCount) {
        moe_fp8_gemm_args.a(s, a);
        moe_fp8_gemm_args.a_count(s, aCount);
        moe_fp8_gemm_args.a_scales(s, aScales);
        moe_fp8_gemm_args.a_scales_count(s, aScalesCount);
        moe_fp8_gemm_args.b(s, b);
        moe_fp8_gemm_args.b_count(s, bCount);
        moe_fp8_gemm_args.b_scales(s, bScales);
        moe_fp8_gemm_args.b_scales_count(s, bScalesCount);
        moe_fp8_gemm_args.c(s, c);
        moe_fp8_gemm_args.c_count(s, cCount);
        return this;
    }

    /**
     * The CUDA device and stream (ignored by the CPU call).
     *
     * @param device the device ordinal
     * @param stream the cudaStream_t ({@link MemorySegment#NULL}: the default stream)
     * @return these arguments
     */
    public Fp8GemmArgs on(int device, MemorySegment stream) {
        moe_fp8_gemm_args.device(s, device);
        moe_fp8_gemm_args.stream(s, stream);
        return this;
    }

    /** {@return the struct, to pass to the C ABI} */
    public MemorySegment segment() {
        return s;
    }
}
