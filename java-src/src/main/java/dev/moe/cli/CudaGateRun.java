package dev.moe.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.routing.NativeGateConfig;
import dev.moe.routing.NativeStatus;
import dev.moe.routing.RoutingConfig;

/**
 * The CUDA gate on device-resident logits, for {@code bench route}: {@value #REPS} gate calls captured
 * once into a CUDA graph, so that one replay and one synchronisation time the kernels the way GPU
 * gate benchmarks (SGLang's, under CUDA graphs) do; {@link #run} replays it.
 */
final class CudaGateRun implements AutoCloseable {
    /** Gate calls per graph replay. */
    static final int REPS = 20;
    private static final int DEVICE = 0;

    private final DeviceArena arena = new DeviceArena(DEVICE);
    private final CudaStream stream;
    private final MemorySegment graph;

    CudaGateRun(RoutingConfig c, MemorySegment logits, int tokens) {
        stream = CudaStream.create(DEVICE);
        long n = c.numExperts();
        long tk = (long) tokens * c.topk();
        DeviceBuffer z = arena.allocate(logits.byteSize());
        DeviceBuffer ids = arena.allocate(4 * tk);
        DeviceBuffer w = arena.allocate(4 * tk);
        DeviceBuffer load = arena.allocate(8 * n);
        DeviceBuffer stats = arena.allocate(16);
        try (Arena host = Arena.ofConfined()) {
            z.copyFrom(logits, stream);
            load.clear(stream);
            stream.synchronize();
            MemorySegment cfg = NativeGateConfig.allocate(c, host);
            NativeStatus.check(moe_h.moe_cuda_graph_capture_begin(DEVICE, stream.handle()), "moe_cuda_graph_capture_begin");
            int st = moe_h.MOE_STATUS_OK();
            for (int r = 0; r < REPS && st == moe_h.MOE_STATUS_OK(); r++) {
                st = moe_h.moe_gate_cuda(DEVICE, stream.handle(), cfg, z.pointer(), tokens * n, MemorySegment.NULL, 0, tokens,
                        ids.pointer(), tk, w.pointer(), tk, load.pointer(), n, stats.pointer());
            }
            MemorySegment exec = host.allocate(ValueLayout.ADDRESS);
            int end = moe_h.moe_cuda_graph_capture_end(DEVICE, stream.handle(), exec);
            NativeStatus.check(st, "moe_gate_cuda");
            NativeStatus.check(end, "moe_cuda_graph_capture_end");
            graph = exec.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** {@value #REPS} gate calls (one graph replay), waited for. */
    void run() {
        NativeStatus.check(moe_h.moe_cuda_graph_launch(DEVICE, stream.handle(), graph), "moe_cuda_graph_launch");
        stream.synchronize();
    }

    @Override
    public void close() {
        try {
            NativeStatus.check(moe_h.moe_cuda_graph_destroy(DEVICE, graph), "moe_cuda_graph_destroy");
        } finally {
            try {
                stream.close();
            } finally {
                arena.close();
            }
        }
    }
}
