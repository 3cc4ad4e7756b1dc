package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;
import dev.moe.nativelib.MoeNative;

/**
 * Device memory owned like an FFM arena: every buffer allocated from it is freed when it closes,
 * so device memory cannot outlive its owner. Not thread-safe.
 */
public final class DeviceArena implements AutoCloseable {
    private final int device;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private boolean closed;

    /**
     * An empty arena on {@code device}.
     *
     * @param device the CUDA device ordinal
     * @throws dev.moe.nativelib.NativeLibraryException if the CUDA library cannot be loaded
     */
    public DeviceArena(int device) {
        MoeNative.cuda();
        this.device = device;
    }

    /** {@return the CUDA device ordinal of this arena} */
    public int device() {
        return device;
    }

    /**
     * Allocates device memory owned by this arena (cudaMalloc; a zero-byte request still allocates one byte).
     *
     * @param bytes the size, &ge; 0
     * @return the buffer, at least 256-byte aligned, valid until this arena closes
     * @throws IllegalStateException if the arena is closed
     * @throws IllegalArgumentException if {@code bytes} is negative
     * @throws CudaException if cudaMalloc fails (e.g. out of device memory)
     */
    public DeviceBuffer allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("device arena is closed");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            NativeStatus.check(moe_h.moe_cuda_malloc(device, Math.max(1, bytes), out), "cudaMalloc(" + bytes + " bytes)");
            DeviceBuffer b = new DeviceBuffer(device, out.get(ValueLayout.ADDRESS, 0), bytes);
            buffers.add(b);
            return b;
        }
    }

    /**
     * Frees every buffer (cudaFree waits for work that uses them). Later calls do nothing.
     *
     * @throws CudaException for the first cudaFree that failed, after trying to free all of them
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CudaException first = null;
        for (DeviceBuffer b : buffers) {
            try {
                NativeStatus.check(moe_h.moe_cuda_free(device, b.pointer()), "cudaFree");
            } catch (CudaException e) {
                first = first == null ? e : first;
            }
        }
        buffers.clear();
        if (first != null) {
            throw first;
        }
    }
}
