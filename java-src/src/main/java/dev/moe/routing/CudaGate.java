package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/**
 * The fused gate of one configuration on device-resident buffers, enqueued on a stream without host
 * copies or synchronisation ({@code moe_gate_cuda}): for pipelines that keep their data on the GPU, and
 * for capturing into a {@link dev.moe.cuda.CudaGraph}. Ids and weights are bit-identical to the CPU kernel
 * and the Java reference; results are ready once the stream is synchronised. Thread-safe.
 */
public final class CudaGate {
    private final RoutingConfig config;
    private final MemorySegment nativeConfig;

    /**
     * The gate of {@code config}.
     *
     * @param config the routing configuration (N up to 1024 and J up to 32 on CUDA)
     * @throws IllegalArgumentException if the CUDA kernel does not support the configuration
     * @throws dev.moe.nativelib.NativeLibraryException if the CUDA library cannot be loaded
     */
    public CudaGate(RoutingConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        MoeNative.cpu();  // the configuration check
        MoeNative.cuda();
        this.nativeConfig = NativeCpuRouter.toNative(config, Arena.ofAuto());
        NativeStatus.check(moe_h.moe_gate_config_check(nativeConfig), "moe_gate_config_check(" + config + ")");
    }

    /** {@return the routing configuration} */
    public RoutingConfig config() {
        return config;
    }

    /**
     * Enqueues the gate on {@code tokens} tokens.
     *
     * @param stream the stream (its device runs the gate)
     * @param logits float [tokens, N]
     * @param tokens the number of tokens, &ge; 0
     * @param bias   float [N] selection bias, or null for none
     * @param ids    int [tokens, K], written
     * @param weights float [tokens, K], written
     * @param load   long [N] accumulated (+=) with one count per (token, chosen expert), or null
     * @param stats  long [2], written: [0] the first token with a non-finite logit ({@link Long#MAX_VALUE} if
     *               none; then the other outputs are unspecified and {@code load} is untouched), [1] the rows
     *               whose selected weights summed to 0
     * @throws IllegalArgumentException if a buffer is smaller than its shape
     * @throws dev.moe.nativelib.CudaException if the gate cannot be enqueued
     */
    public void enqueue(CudaStream stream, DeviceBuffer logits, long tokens, DeviceBuffer bias, DeviceBuffer ids, DeviceBuffer weights,
                        DeviceBuffer load, DeviceBuffer stats) {
        long n = config.numExperts();
        long tk = tokens * config.topk();
        requireBytes(logits, 4 * tokens * n, "logits");
        requireBytes(ids, 4 * tk, "ids");
        requireBytes(weights, 4 * tk, "weights");
        requireBytes(stats, 16, "stats");
        if (bias != null) {
            requireBytes(bias, 4 * n, "bias");
        }
        if (load != null) {
            requireBytes(load, 8 * n, "expert load");
        }
        int status = moe_h.moe_gate_cuda(stream.device(), stream.handle(), nativeConfig, logits.pointer(), tokens * n,
                bias == null ? MemorySegment.NULL : bias.pointer(), bias == null ? 0 : n, tokens, ids.pointer(), tk, weights.pointer(), tk,
                load == null ? MemorySegment.NULL : load.pointer(), load == null ? 0 : n, stats.pointer());
        NativeStatus.check(status, "moe_gate_cuda");
    }

    private static void requireBytes(DeviceBuffer buffer, long bytes, String what) {
        Objects.requireNonNull(buffer, what);
        if (buffer.bytes() < bytes) {
            throw new IllegalArgumentException(what + ": device buffer of " + buffer.bytes() + " bytes, the gate needs " + bytes);
        }
    }
}
