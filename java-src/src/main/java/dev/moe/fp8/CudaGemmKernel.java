package dev.moe.fp8;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaDevice;

/**
 * The FP8 block-scaled GEMM kernels of the CUDA library ({@code MOE_GEMM_KERNEL_*} in moe.h), each running
 * the dense, grouped-contiguous and grouped-masked layouts: {@link Fp8Gemm#cuda(int, CudaGemmKernel)} runs
 * them on host arrays, {@link DeviceFp8Gemm} on device buffers.
 */
public enum CudaGemmKernel {
    /** CUDA cores, bit-identical to {@link Fp8GemmReference}; any GPU. */
    EXACT("cuda", 0, moe_h.MOE_GEMM_KERNEL_EXACT()),
    /** mma.sync tensor cores: FP8 from compute capability 8.9, BF16 (exact decode) from 8.0. */
    MMA("cuda-tc", 80, moe_h.MOE_GEMM_KERNEL_MMA()),
    /** Hopper wgmma, one warpgroup per 64 x 128 tile, threads stage the operands (compute capability 9.0). */
    WGMMA("cuda-wgmma", 90, moe_h.MOE_GEMM_KERNEL_WGMMA()),
    /**
     * Hopper wgmma in a persistent, warp-specialised kernel: TMA loads into a seven-stage ring, two consumer
     * warpgroups per 128 x 128 tile (compute capability 9.0); the same bits as {@link #WGMMA}.
     */
    WGMMA_TMA("cuda-wgmma-tma", 90, moe_h.MOE_GEMM_KERNEL_WGMMA_TMA());

    private final String label;
    private final int minCapability;
    private final int nativeCode;

    CudaGemmKernel(String label, int minCapability, int nativeCode) {
        this.label = label;
        this.minCapability = minCapability;
        this.nativeCode = nativeCode;
    }

    /** {@return a short, stable name of this kernel: cuda, cuda-tc, cuda-wgmma or cuda-wgmma-tma} */
    public String label() {
        return label;
    }

    /** {@return the MOE_GEMM_KERNEL_* code of the C ABI} */
    public int nativeCode() {
        return nativeCode;
    }

    /** {@return whether this kernel runs on the tensor cores (results close to the reference, not bit-identical)} */
    public boolean tensorCores() {
        return this != EXACT;
    }

    /**
     * Whether a device of compute capability {@code cc} (major × 10 + minor) runs this kernel. The wgmma
     * kernels need exactly 9.0 (their sm_90a code runs nowhere else) and the sm_90a image in the library: a
     * library built for plain sm_90 loads on the same device with every wgmma kernel a trap.
     *
     * @param cc            the compute capability, major × 10 + minor
     * @param hasWgmmaImage whether the library holds the device's sm_90a image
     * @return whether the kernel runs there
     */
    public boolean runsOn(int cc, boolean hasWgmmaImage) {
        return minCapability == 90 ? cc == 90 && hasWgmmaImage : cc >= minCapability;
    }

    /**
     * Whether {@code device} runs this kernel ({@link #runsOn(int, boolean)}).
     *
     * @param device the device
     * @return whether the kernel runs there
     */
    public boolean runsOn(CudaDevice device) {
        return runsOn(device.capability(), device.hasWgmmaImage());
    }

    /**
     * The fastest tensor-core kernel for compute capability {@code cc}: {@link #WGMMA_TMA} on 9.0 with the
     * sm_90a image, {@link #MMA} from 8.0, else {@link #EXACT}.
     *
     * @param cc            the compute capability, major × 10 + minor
     * @param hasWgmmaImage whether the library holds the device's sm_90a image
     * @return the kernel
     */
    public static CudaGemmKernel fastestFor(int cc, boolean hasWgmmaImage) {
        return WGMMA_TMA.runsOn(cc, hasWgmmaImage) ? WGMMA_TMA : MMA.runsOn(cc, hasWgmmaImage) ? MMA : EXACT;
    }

    /**
     * The fastest tensor-core kernel {@code device} runs ({@link #fastestFor(int, boolean)}).
     *
     * @param device the device
     * @return the kernel
     */
    public static CudaGemmKernel fastestFor(CudaDevice device) {
        return fastestFor(device.capability(), device.hasWgmmaImage());
    }
}
