package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_cuda_device_info;
import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;

/**
 * The installed CUDA driver's version and that of the CUDA runtime linked (statically) into the library,
 * each as 1000 × major + 10 × minor. The runtime refuses to start on an older driver (every call then
 * fails with CUDA error 35), which is the usual reason a machine with a GPU has no usable one.
 *
 * @param driver  the driver's version, 0 when there is no driver
 * @param runtime the linked runtime's version
 */
public record CudaVersions(int driver, int runtime) {

    /**
     * Asks the CUDA library; works without a GPU or driver.
     *
     * @return the versions
     * @throws dev.moe.nativelib.NativeLibraryException if the CUDA library cannot be loaded
     */
    public static CudaVersions query() {
        MoeNative.cuda();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = moe_cuda_device_info.allocate(arena);
            moe_h.moe_cuda_device_query(0, info);  // the versions are filled whatever the status
            moe_h.moe_cuda_last_error(MemorySegment.NULL, 0);  // not an error of the caller's
            return of(info);
        }
    }

    /** The versions a filled {@code moe_cuda_device_info} holds. */
    static CudaVersions of(MemorySegment info) {
        return new CudaVersions(moe_cuda_device_info.driver_version(info), moe_cuda_device_info.runtime_version(info));
    }

    /** {@return whether a driver is installed but older than the runtime needs} */
    public boolean driverTooOld() {
        return driver > 0 && driver < runtime;
    }

    /** {@return e.g. "driver 13.0, runtime 13.0", "no driver, runtime 13.0", with the fix when the driver is too old} */
    public String describe() {
        String text = (driver == 0 ? "no CUDA driver" : "driver " + text(driver)) + ", runtime " + text(runtime);
        return driverTooOld() ? text + " (the runtime needs a driver of at least " + text(runtime) + "; update the driver)" : text;
    }

    /** {@return version v as "major.minor", e.g. 13000 as "13.0"} */
    public static String text(int v) {
        return v / 1000 + "." + v % 1000 / 10;
    }
}
