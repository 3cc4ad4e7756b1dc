package dev.moe.fp8;

import dev.moe.routing.Backend;
import dev.moe.routing.BackendStatus;
import dev.moe.routing.BackendUnavailableException;
import dev.moe.routing.Backends;

/** Which backend an FP8 operation runs on: the same rule for the quantizer and the GEMMs. */
final class Fp8Backends {
    private Fp8Backends() {}

    /**
     * JAVA stays JAVA; CPU and CUDA must be usable (else {@link BackendUnavailableException}, never a
     * silent fallback), and CUDA needs a CUDA kernel for the operation; AUTO is CUDA when it has the
     * kernel and a usable GPU, else CPU when the native library loads, else JAVA.
     *
     * @param what          the operation, for the error message
     * @param hasCudaKernel whether this build has a CUDA kernel for it
     */
    static Backend resolve(Backend backend, String what, boolean hasCudaKernel) {
        return switch (backend) {
            case JAVA -> Backend.JAVA;
            case CPU -> usable(Backend.CPU);
            case CUDA -> {
                if (!hasCudaKernel) {
                    throw new BackendUnavailableException(Backend.CUDA, "this build has no CUDA " + what + " kernel");
                }
                yield usable(Backend.CUDA);
            }
            case AUTO -> {
                Backend b = dev.moe.routing.Routers.resolveAuto();  // cuda, else cpu, else java; logged at INFO
                yield b == Backend.CUDA && !hasCudaKernel ? (Backends.status(Backend.CPU).usable() ? Backend.CPU : Backend.JAVA) : b;
            }
        };
    }

    private static Backend usable(Backend b) {
        BackendStatus s = Backends.status(b);
        if (!s.usable()) {
            throw new BackendUnavailableException(b, s.detail());
        }
        return b;
    }

    /** {@return {@code device}, checked to be a device index (&ge; 0; a missing device fails at the first call)} */
    static int requireDevice(int device) {
        if (device < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + device);
        }
        return device;
    }
}
