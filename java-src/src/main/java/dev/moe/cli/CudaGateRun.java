package dev.moe.cli;

import java.lang.foreign.MemorySegment;

import dev.moe.cuda.CudaGraph;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.routing.CudaGate;
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
    private final CudaGraph graph;

    CudaGateRun(RoutingConfig c, MemorySegment logits, int tokens) {
        stream = CudaStream.create(DEVICE);
        CudaGate gate = new CudaGate(c);
        long tk = (long) tokens * c.topk();
        DeviceBuffer z = arena.allocate(logits.byteSize());
        DeviceBuffer ids = arena.allocate(4 * tk);
        DeviceBuffer w = arena.allocate(4 * tk);
        DeviceBuffer load = arena.allocate(8L * c.numExperts());
        DeviceBuffer stats = arena.allocate(16);
        z.copyFrom(logits, stream);
        load.clear(stream);
        stream.synchronize();
        graph = CudaGraph.capture(stream, () -> {
            for (int r = 0; r < REPS; r++) {
                gate.enqueue(stream, z, tokens, null, ids, w, load, stats);
            }
        });
    }

    /** {@value #REPS} gate calls (one graph replay), waited for. */
    void run() {
        graph.launch(stream);
        stream.synchronize();
    }

    @Override
    public void close() {
        try {
            graph.close();
        } finally {
            try {
                stream.close();
            } finally {
                arena.close();
            }
        }
    }
}
