package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;
import dev.moe.nativelib.MoeNative;

/** A CUDA stream on one device: work is enqueued on it in order; {@link #synchronize} waits for it. */
public final class CudaStream implements AutoCloseable {
    private final int device;
    private MemorySegment handle;

    private CudaStream(int device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    /**
     * A new stream on {@code device}. Close it to destroy the stream.
     *
     * @param device the CUDA device ordinal
     * @return the stream
     * @throws dev.moe.nativelib.NativeLibraryException if the CUDA library cannot be loaded
     * @throws CudaException if there is no usable GPU or cudaStreamCreate fails
     */
    public static CudaStream create(int device) {
        MoeNative.cuda();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            NativeStatus.check(moe_h.moe_cuda_stream_create(device, out), "cudaStreamCreate");
            return new CudaStream(device, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** {@return the CUDA device ordinal of this stream} */
    public int device() {
        return device;
    }

    /**
     * The cudaStream_t, as passed to the C ABI.
     *
     * @return the stream handle (an address, not dereferenceable from Java)
     * @throws IllegalStateException if the stream is closed
     */
    public MemorySegment handle() {
        if (handle == null) {
            throw new IllegalStateException("stream is closed");
        }
        return handle;
    }

    /**
     * Waits until everything enqueued so far has finished.
     *
     * @throws IllegalStateException if the stream is closed
     * @throws CudaException if the synchronisation reports a CUDA error
     */
    public void synchronize() {
        NativeStatus.check(moe_h.moe_cuda_stream_synchronize(device, handle()), "cudaStreamSynchronize");
    }

    /**
     * Destroys the stream; later calls do nothing.
     *
     * @throws CudaException if cudaStreamDestroy fails
     */
    @Override
    public void close() {
        if (handle != null) {
            MemorySegment h = handle;
            handle = null;
            NativeStatus.check(moe_h.moe_cuda_stream_destroy(device, h), "cudaStreamDestroy");
        }
    }
}
