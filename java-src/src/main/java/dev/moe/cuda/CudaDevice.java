package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_cuda_device_info;
import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;
import dev.moe.nativelib.MoeNative;

/**
 * One CUDA device as the runtime describes it.
 *
 * @param index           the device ordinal
 * @param name            the device's name, e.g. "NVIDIA H100 80GB HBM3"
 * @param capability      the compute capability as major × 10 + minor, e.g. 90
 * @param multiprocessors its streaming multiprocessors
 * @param deviceCount     how many usable devices this machine has
 * @param versions        the CUDA driver's and the linked runtime's versions
 * @param hasWgmmaImage   whether the library holds this device's sm_90a image, so its wgmma kernels run
 *                        (a plain sm_90 image would load on the same device with every one a trap)
 */
public record CudaDevice(int index, String name, int capability, int multiprocessors, int deviceCount,
                         CudaVersions versions, boolean hasWgmmaImage) {

    /**
     * Asks the CUDA runtime about device {@code index}.
     *
     * @param index the device ordinal
     * @return the device
     * @throws dev.moe.nativelib.NativeLibraryException if the CUDA library cannot be loaded
     * @throws CudaException without a usable GPU (no driver, no device, an index out of range), with the
     *         runtime's error code
     */
    public static CudaDevice query(int index) {
        MoeNative.cuda();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = moe_cuda_device_info.allocate(arena);
            NativeStatus.check(moe_h.moe_cuda_device_query(index, info), "CUDA device " + index);
            return new CudaDevice(index, moe_cuda_device_info.name(info).getString(0),
                    10 * moe_cuda_device_info.major(info) + moe_cuda_device_info.minor(info),
                    moe_cuda_device_info.multiprocessors(info), moe_cuda_device_info.device_count(info),
                    CudaVersions.of(info),
                    moe_cuda_device_info.has_wgmma_image(info) == 1);
        }
    }

    /** {@return the compute capability as text, e.g. "9.0"} */
    public String capabilityText() {
        return capability / 10 + "." + capability % 10;
    }
}
