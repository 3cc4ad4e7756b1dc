package dev.moe.fp8;

import dev.moe.routing.Backend;
import dev.moe.routing.BackendStatus;
import dev.moe.routing.BackendUnavailableException;
import dev.moe.routing.Backends;

/** Which backend an FP8 operation runs on: the same rule for the quantizer and the GEMMs. */
final class Fp8Backends {
    private Fp8Backends() {}

    /**
     * JAVA stays JAVA; CPU must be usable (else {@link BackendUnavailableException}, never a silent
     * fallback); AUTO is CPU when the native library loads, else JAVA; CUDA has no FP8 kernel in this build.
     *
     * @param what the operation, for the error message
     */
    static Backend resolve(Backend backend, String what) {
        return switch (backend) {
            case JAVA -> Backend.JAVA;
            case CPU -> {
                BackendStatus s = Backends.status(Backend.CPU);
                if (!s.usable()) {
                    throw new BackendUnavailableException(Backend.CPU, s.detail());
                }
                yield Backend.CPU;
            }
            case CUDA -> throw new BackendUnavailableException(Backend.CUDA, "this build has no CUDA " + what + " kernel");
            case AUTO -> Backends.status(Backend.CPU).usable() ? Backend.CPU : Backend.JAVA;
        };
    }
}
