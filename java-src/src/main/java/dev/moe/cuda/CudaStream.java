package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;

/** A CUDA stream on one device: work is enqueued on it in order; {@link #synchronize} waits for it. */
public final class CudaStream implements AutoCloseable {
    private final int device;
    private MemorySegment handle;

    private CudaStream(int device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    /** A new stream on {@code device}. */
    public static CudaStream create(int device) {
        CudaCalls.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaCalls.check(moe_h.moe_cuda_stream_create(device, out), "cudaStreamCreate");
            return new CudaStream(device, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    public int device() {
        return device;
    }

    /** The cudaStream_t, as passed to the C ABI. */
    public MemorySegment handle() {
        if (handle == null) {
            throw new IllegalStateException("stream is closed");
        }
        return handle;
    }

    /** Waits until everything enqueued so far has finished. */
    public void synchronize() {
        CudaCalls.check(moe_h.moe_cuda_stream_synchronize(device, handle()), "cudaStreamSynchronize");
    }

    @Override
    public void close() {
        if (handle != null) {
            MemorySegment h = handle;
            handle = null;
            CudaCalls.check(moe_h.moe_cuda_stream_destroy(device, h), "cudaStreamDestroy");
        }
    }
}
