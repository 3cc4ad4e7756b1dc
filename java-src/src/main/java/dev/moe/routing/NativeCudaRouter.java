package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.backend.Backend;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;

/**
 * The fused gate on a CUDA device ({@link CudaGate}): host segments are copied to device
 * buffers, the kernel runs on this router's stream, results come back and the stream is
 * synchronised before {@link #route} returns. Ids and weights are bit-identical to the CPU kernel
 * and the Java reference. Each call owns its device memory (a {@link DeviceArena} per call), so the
 * router is thread-safe; the GPU-resident pipeline keeps its buffers instead.
 */
final class NativeCudaRouter extends AbstractRouter {
    private final int device;
    private final CudaGate gate;

    NativeCudaRouter(RoutingConfig config, int device) {
        super(config);
        this.device = device;
        this.gate = new CudaGate(config);
    }

    @Override
    public Backend backend() {
        return Backend.CUDA;
    }

    @Override
    protected GateStats doRoute(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                MemorySegment outWeights, MemorySegment expertLoad) {
        long n = config.numExperts();
        long tk = numTokens * config.topk();
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(device); CudaStream stream = CudaStream.create(device)) {
            MemorySegment z = staged(host, logits);
            DeviceBuffer dz = dev.allocate(z.byteSize());
            dz.copyFrom(z, stream);
            DeviceBuffer db = null;
            if (bias != null) {
                db = dev.allocate(4 * n);
                db.copyFrom(staged(host, bias), stream);
            }
            DeviceBuffer dIds = dev.allocate(4 * tk);
            DeviceBuffer dW = dev.allocate(4 * tk);
            DeviceBuffer dLoad = null;
            if (expertLoad != null) {
                dLoad = dev.allocate(8 * n);
                dLoad.clear(stream);
            }
            DeviceBuffer dStats = dev.allocate(16);
            gate.enqueue(stream, dz, numTokens, db, dIds, dW, dLoad, dStats);
            MemorySegment ids = host.allocate(ValueLayout.JAVA_INT, Math.max(1, tk)).asSlice(0, 4 * tk);
            MemorySegment w = host.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, tk)).asSlice(0, 4 * tk);
            MemorySegment load = host.allocate(ValueLayout.JAVA_LONG, n);
            MemorySegment stats = host.allocate(ValueLayout.JAVA_LONG, 2);
            dIds.copyTo(ids, stream);
            dW.copyTo(w, stream);
            if (dLoad != null) {
                dLoad.copyTo(load, stream);
            }
            dStats.copyTo(stats, stream);
            stream.synchronize();
            long bad = stats.getAtIndex(ValueLayout.JAVA_LONG, 0);
            if (bad != Long.MAX_VALUE) {
                throw NonFiniteInputException.inRow(logits, bad, (int) n);
            }
            MemorySegment.copy(ids, 0, outIds, 0, ids.byteSize());
            MemorySegment.copy(w, 0, outWeights, 0, w.byteSize());
            if (expertLoad != null) {
                for (long e = 0; e < n; e++) {
                    expertLoad.setAtIndex(ValueLayout.JAVA_LONG, e,
                            expertLoad.getAtIndex(ValueLayout.JAVA_LONG, e) + load.getAtIndex(ValueLayout.JAVA_LONG, e));
                }
            }
            return new GateStats(numTokens, stats.getAtIndex(ValueLayout.JAVA_LONG, 1));
        }
    }

    /** The data in native memory (CUDA copies cannot read the Java heap). */
    private static MemorySegment staged(Arena arena, MemorySegment s) {
        if (s.isNative()) {
            return s;
        }
        MemorySegment copy = arena.allocate(Math.max(1, s.byteSize()), 16).asSlice(0, s.byteSize());
        copy.copyFrom(s);
        return copy;
    }
}
