package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.routing.NativeStatus;

/**
 * The FP8 block-scaled GEMM kernels of the CUDA library, each with its dense, grouped-contiguous and
 * grouped-masked entry points. Their arguments are device pointers (offsets of the contiguous layout are
 * host memory), as in {@code moe.h}; {@link Fp8Gemm#cuda(int, CudaGemmKernel)} wraps them for host arrays.
 */
public enum CudaGemmKernel {
    /** CUDA cores, bit-identical to {@link Fp8GemmReference}; any GPU. */
    EXACT("cuda", 0),
    /** mma.sync tensor cores: FP8 from compute capability 8.9, BF16 (exact decode) from 8.0. */
    MMA("cuda-tc", 80),
    /** Hopper wgmma, one warpgroup per 64 x 128 tile, threads stage the operands (compute capability 9.0). */
    WGMMA("cuda-wgmma", 90),
    /**
     * Hopper wgmma in a persistent, warp-specialised kernel: TMA loads into a seven-stage ring, two consumer
     * warpgroups per 128 x 128 tile (compute capability 9.0); the same bits as {@link #WGMMA}.
     */
    WGMMA_TMA("cuda-wgmma-tma", 90);

    private final String benchRow;
    private final int minCapability;

    CudaGemmKernel(String benchRow, int minCapability) {
        this.benchRow = benchRow;
        this.minCapability = minCapability;
    }

    /** {@return the row name of this kernel in {@code moe bench fp8-gemm}} */
    public String benchRow() {
        return benchRow;
    }

    /** {@return whether this kernel runs on the tensor cores (results close to the reference, not bit-identical)} */
    public boolean tensorCores() {
        return this != EXACT;
    }

    /**
     * Whether a device of compute capability {@code cc} (major × 10 + minor) runs this kernel (wgmma needs
     * exactly 9.0: its sm_90a code runs nowhere else).
     *
     * @param cc the compute capability, major × 10 + minor
     * @return whether the kernel runs there
     */
    public boolean runsOn(int cc) {
        return minCapability == 90 ? cc == 90 : cc >= minCapability;
    }

    /**
     * The fastest tensor-core kernel for compute capability {@code cc}: {@link #WGMMA_TMA} on 9.0,
     * {@link #MMA} from 8.0, else {@link #EXACT}.
     *
     * @param cc the compute capability, major × 10 + minor
     * @return the kernel
     */
    public static CudaGemmKernel fastestFor(int cc) {
        return WGMMA_TMA.runsOn(cc) ? WGMMA_TMA : MMA.runsOn(cc) ? MMA : EXACT;
    }

    /**
     * The compute capability of CUDA device {@code device} as major × 10 + minor.
     *
     * @param device the device index
     * @return the compute capability
     * @throws IllegalStateException when the device cannot be queried (no usable GPU, bad index)
     */
    public static int capability(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment minor = arena.allocate(ValueLayout.JAVA_INT);
            NativeStatus.check(moe_h.moe_cuda_device_capability(device, major, minor), "moe_cuda_device_capability");
            return 10 * major.get(ValueLayout.JAVA_INT, 0) + minor.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Enqueues C = A·Bᵀ on {@code stream} ({@code moe_fp8_gemm_cuda*}), every buffer device memory, counts in
     * elements as {@code moe.h} names them. Arguments are checked by the native code only.
     *
     * @return the MOE_STATUS_* code
     */
    public int dense(int device, MemorySegment stream, long m, long n, long k, MemorySegment a, long aCount, MemorySegment as,
              long asCount, MemorySegment b, long bCount, MemorySegment bs, long bsCount, MemorySegment c, long cCount) {
        return switch (this) {
            case EXACT -> moe_h.moe_fp8_gemm_cuda(device, stream, m, n, k, a, aCount, as, asCount, b, bCount, bs, bsCount, c, cCount);
            case MMA -> moe_h.moe_fp8_gemm_cuda_tc(device, stream, m, n, k, a, aCount, as, asCount, b, bCount, bs, bsCount, c, cCount);
            case WGMMA -> moe_h.moe_fp8_gemm_cuda_wgmma(device, stream, m, n, k, a, aCount, as, asCount, b, bCount, bs, bsCount, c,
                    cCount);
            case WGMMA_TMA -> moe_h.moe_fp8_gemm_cuda_wgmma_tma(device, stream, m, n, k, a, aCount, as, asCount, b, bCount, bs, bsCount,
                    c, cCount);
        };
    }

    /**
     * Enqueues the grouped-contiguous GEMM ({@code moe_fp8_grouped_gemm_contiguous_cuda*}); {@code offsets}
     * is host memory, int64 [experts + 1], every other buffer device memory.
     *
     * @return the MOE_STATUS_* code
     */
    public int contiguous(int device, MemorySegment stream, long experts, MemorySegment offsets, long n, long k, MemorySegment a,
                   long aCount, MemorySegment as, long asCount, MemorySegment b, long bCount, MemorySegment bs, long bsCount,
                   MemorySegment c, long cCount) {
        long oc = experts + 1;
        return switch (this) {
            case EXACT -> moe_h.moe_fp8_grouped_gemm_contiguous_cuda(device, stream, experts, offsets, oc, n, k, a, aCount, as, asCount,
                    b, bCount, bs, bsCount, c, cCount);
            case MMA -> moe_h.moe_fp8_grouped_gemm_contiguous_cuda_tc(device, stream, experts, offsets, oc, n, k, a, aCount, as,
                    asCount, b, bCount, bs, bsCount, c, cCount);
            case WGMMA -> moe_h.moe_fp8_grouped_gemm_contiguous_cuda_wgmma(device, stream, experts, offsets, oc, n, k, a, aCount, as,
                    asCount, b, bCount, bs, bsCount, c, cCount);
            case WGMMA_TMA -> moe_h.moe_fp8_grouped_gemm_contiguous_cuda_wgmma_tma(device, stream, experts, offsets, oc, n, k, a,
                    aCount, as, asCount, b, bCount, bs, bsCount, c, cCount);
        };
    }

    /**
     * Enqueues the grouped-masked GEMM ({@code moe_fp8_grouped_gemm_masked_cuda*}); {@code counts} is
     * device memory, int32 [experts], as every other buffer.
     *
     * @return the MOE_STATUS_* code
     */
    public int masked(int device, MemorySegment stream, long experts, long maxM, MemorySegment counts, long n, long k, MemorySegment a,
               long aCount, MemorySegment as, long asCount, MemorySegment b, long bCount, MemorySegment bs, long bsCount,
               MemorySegment c, long cCount) {
        return switch (this) {
            case EXACT -> moe_h.moe_fp8_grouped_gemm_masked_cuda(device, stream, experts, maxM, counts, experts, n, k, a, aCount, as,
                    asCount, b, bCount, bs, bsCount, c, cCount);
            case MMA -> moe_h.moe_fp8_grouped_gemm_masked_cuda_tc(device, stream, experts, maxM, counts, experts, n, k, a, aCount, as,
                    asCount, b, bCount, bs, bsCount, c, cCount);
            case WGMMA -> moe_h.moe_fp8_grouped_gemm_masked_cuda_wgmma(device, stream, experts, maxM, counts, experts, n, k, a, aCount,
                    as, asCount, b, bCount, bs, bsCount, c, cCount);
            case WGMMA_TMA -> moe_h.moe_fp8_grouped_gemm_masked_cuda_wgmma_tma(device, stream, experts, maxM, counts, experts, n, k, a,
                    aCount, as, asCount, b, bCount, bs, bsCount, c, cCount);
        };
    }
}
