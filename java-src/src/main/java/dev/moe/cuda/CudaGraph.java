package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;

/**
 * An executable CUDA graph: the work some code enqueued on a stream, captured once and replayed with one
 * launch, which removes the per-kernel launch cost of short kernels. The buffers the captured work uses
 * must stay allocated (and at the same addresses) while the graph is launched. Not thread-safe.
 */
public final class CudaGraph implements AutoCloseable {
    private final int device;
    private MemorySegment exec;

    private CudaGraph(int device, MemorySegment exec) {
        this.device = device;
        this.exec = exec;
    }

    /**
     * Captures what {@code work} enqueues on {@code stream} (while capturing, enqueued work does not run;
     * other threads' CUDA calls neither fail nor join the capture).
     *
     * @param stream a stream of this library ({@link CudaStream#create}), not the default stream
     * @param work   enqueues the work on {@code stream}
     * @return the graph; close it to free it
     * @throws CudaException if the capture cannot begin or end (the capture is ended either way)
     * @throws RuntimeException whatever {@code work} throws, after the capture is ended
     */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        int device = stream.device();
        NativeStatus.check(moe_h.moe_cuda_graph_capture_begin(device, stream.handle()), "cudaStreamBeginCapture");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            RuntimeException failure = null;
            try {
                work.run();
            } catch (RuntimeException e) {
                failure = e;
            }
            int end = moe_h.moe_cuda_graph_capture_end(device, stream.handle(), out);  // also ends a failed capture
            if (failure != null) {
                throw failure;
            }
            NativeStatus.check(end, "cudaStreamEndCapture");
            return new CudaGraph(device, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * Enqueues one replay of the graph on {@code stream}.
     *
     * @param stream the stream
     * @throws IllegalStateException if the graph is closed
     * @throws CudaException if the launch cannot be enqueued
     */
    public void launch(CudaStream stream) {
        if (exec == null) {
            throw new IllegalStateException("CUDA graph is closed");
        }
        NativeStatus.check(moe_h.moe_cuda_graph_launch(device, stream.handle(), exec), "cudaGraphLaunch");
    }

    /**
     * Frees the graph; later calls do nothing.
     *
     * @throws CudaException if cudaGraphExecDestroy fails
     */
    @Override
    public void close() {
        if (exec != null) {
            MemorySegment e = exec;
            exec = null;
            NativeStatus.check(moe_h.moe_cuda_graph_destroy(device, e), "cudaGraphExecDestroy");
        }
    }
}
