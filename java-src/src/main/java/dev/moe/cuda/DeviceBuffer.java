package dev.moe.cuda;

import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.CudaException;

/**
 * Device memory of one {@link DeviceArena}: a device address (not dereferenceable from Java) and a
 * size. Copies are asynchronous on a stream; the host side must stay alive until the stream is synchronised.
 *
 * @param device  the device it lives on
 * @param pointer the device address
 * @param bytes   its size
 */
public record DeviceBuffer(int device, MemorySegment pointer, long bytes) {

    /**
     * Enqueues a copy of all of {@code host} to the start of this buffer.
     *
     * @param host   native (off-heap) memory of at most {@link #bytes} bytes; keep it alive until the
     *               stream is synchronised
     * @param stream the stream to enqueue on
     * @throws IllegalArgumentException if {@code host} is a heap segment or larger than this buffer
     * @throws CudaException if the copy cannot be enqueued
     */
    public void copyFrom(MemorySegment host, CudaStream stream) {
        requireHost(host);
        NativeStatus.check(moe_h.moe_cuda_memcpy(device, stream.handle(), pointer, host, host.byteSize(), moe_h.MOE_CUDA_H2D()),
                "cudaMemcpyAsync(host to device)");
    }

    /**
     * Enqueues a copy of the first {@code host.byteSize()} bytes of this buffer into {@code host}.
     *
     * @param host   native (off-heap) memory of at most {@link #bytes} bytes; its contents are valid
     *               once the stream is synchronised
     * @param stream the stream to enqueue on
     * @throws IllegalArgumentException if {@code host} is a heap segment or larger than this buffer
     * @throws CudaException if the copy cannot be enqueued
     */
    public void copyTo(MemorySegment host, CudaStream stream) {
        requireHost(host);
        NativeStatus.check(moe_h.moe_cuda_memcpy(device, stream.handle(), host, pointer, host.byteSize(), moe_h.MOE_CUDA_D2H()),
                "cudaMemcpyAsync(device to host)");
    }

    /**
     * Enqueues zeroing the whole buffer.
     *
     * @param stream the stream to enqueue on
     * @throws CudaException if the memset cannot be enqueued
     */
    public void clear(CudaStream stream) {
        NativeStatus.check(moe_h.moe_cuda_memset(device, stream.handle(), pointer, 0, bytes), "cudaMemsetAsync");
    }

    private void requireHost(MemorySegment host) {
        if (!host.isNative()) {
            throw new IllegalArgumentException("CUDA copies need native (off-heap) host memory, got a heap segment");
        }
        if (host.byteSize() > bytes) {
            throw new IllegalArgumentException("host segment of " + host.byteSize() + " bytes does not fit the " + bytes
                    + "-byte device buffer");
        }
    }
}
