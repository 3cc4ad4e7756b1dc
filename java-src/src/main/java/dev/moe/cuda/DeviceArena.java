package dev.moe.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import dev.moe.bindings.moe_h;

/**
 * Device memory owned like an FFM arena: every buffer allocated from it is freed when it closes,
 * so device memory cannot outlive its owner. Not thread-safe.
 */
public final class DeviceArena implements AutoCloseable {
    private final int device;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private boolean closed;

    public DeviceArena(int device) {
        CudaCalls.load();
        this.device = device;
    }

    public int device() {
        return device;
    }

    /** {@code bytes} of device memory (at least 256-byte aligned, as cudaMalloc gives). */
    public DeviceBuffer allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("device arena is closed");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaCalls.check(moe_h.moe_cuda_malloc(device, Math.max(1, bytes), out), "cudaMalloc(" + bytes + " bytes)");
            DeviceBuffer b = new DeviceBuffer(device, out.get(ValueLayout.ADDRESS, 0), bytes);
            buffers.add(b);
            return b;
        }
    }

    /** Frees every buffer (cudaFree waits for work that uses them). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CudaException first = null;
        for (DeviceBuffer b : buffers) {
            try {
                CudaCalls.check(moe_h.moe_cuda_free(device, b.pointer()), "cudaFree");
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
