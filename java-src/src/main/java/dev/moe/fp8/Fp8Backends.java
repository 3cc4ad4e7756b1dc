package dev.moe.fp8;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;

/** Which backend an FP8 operation runs on: the same rule for the quantizer and the GEMMs. */
final class Fp8Backends {
    private Fp8Backends() {}

    /**
     * JAVA stays JAVA; CPU and CUDA must be usable (else {@link BackendUnavailableException}, never a
     * silent fallback); AUTO is what {@link dev.moe.routing.Routers#resolveAuto()} picks (CUDA with a usable
     * GPU, else CPU when the native library loads, else JAVA): every FP8 operation has a kernel on each.
     */
    static Backend resolve(Backend backend) {
        return switch (backend) {
            case JAVA -> Backend.JAVA;
            case AUTO -> dev.moe.routing.Routers.resolveAuto();  // logged at INFO
            case CPU, CUDA -> usable(backend);
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
