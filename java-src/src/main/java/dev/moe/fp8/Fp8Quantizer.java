package dev.moe.fp8;

import dev.moe.routing.Backend;
import dev.moe.routing.BackendStatus;
import dev.moe.routing.BackendUnavailableException;
import dev.moe.routing.Backends;

/**
 * FP8 block quantisation on a chosen backend: {@code java} (the reference {@link BlockQuantizer}) or
 * {@code cpu} (the native kernel, bit-identical to it). {@code auto} picks cpu when the native library
 * loads, else java; a backend named explicitly that cannot run here throws
 * {@link BackendUnavailableException}, it is never silently replaced. There is no CUDA FP8 kernel yet.
 */
public final class Fp8Quantizer {
    private final Backend backend;

    private Fp8Quantizer(Backend backend) {
        this.backend = backend;
    }

    /** A quantizer on {@code backend} (AUTO resolved as described above). */
    public static Fp8Quantizer create(Backend backend) {
        return switch (backend) {
            case JAVA -> new Fp8Quantizer(Backend.JAVA);
            case CPU -> {
                BackendStatus s = Backends.status(Backend.CPU);
                if (!s.usable()) {
                    throw new BackendUnavailableException(Backend.CPU, s.detail());
                }
                yield new Fp8Quantizer(Backend.CPU);
            }
            case CUDA -> throw new BackendUnavailableException(Backend.CUDA, "this build has no CUDA FP8 quantisation kernel");
            case AUTO -> new Fp8Quantizer(Backends.status(Backend.CPU).usable() ? Backend.CPU : Backend.JAVA);
        };
    }

    /** The concrete backend this quantizer runs on (JAVA or CPU). */
    public Backend backend() {
        return backend;
    }

    /**
     * Quantises x [rows, cols] (C order) in {@code block} tiles.
     *
     * @throws IllegalArgumentException if the shape does not match {@code x.length}
     * @throws NonFiniteTensorException naming the first NaN or infinite element
     */
    public QuantizedTensor quantize(float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        return backend == Backend.CPU ? NativeFp8.quantize(x, rows, cols, block, pow2)
                : BlockQuantizer.quantize(x, rows, cols, block, pow2);
    }
}
