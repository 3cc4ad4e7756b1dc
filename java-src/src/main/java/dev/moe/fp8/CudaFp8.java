package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.routing.NativeStatus;

/**
 * FP8 block quantisation and encoding on CUDA device 0 ({@code moe_fp8_*_cuda}), bit-identical to the
 * CPU kernels: host data is copied to device buffers owned by a per-call {@link DeviceArena}, the kernel
 * runs on a per-call stream, and results come back before returning.
 */
final class CudaFp8 {
    private static final int DEVICE = 0;

    private CudaFp8() {}

    /** As {@link NativeFp8#quantize(MemorySegment, long, long, Fp8Block, boolean, MemorySegment, MemorySegment)}, on the GPU. */
    static void quantize(MemorySegment x, long rows, long cols, Fp8Block block, boolean pow2, MemorySegment q, MemorySegment scales) {
        long n = x.byteSize() / 4;
        if (rows < 0 || cols < 0 || Math.multiplyHigh(rows, cols) != 0 || rows * cols != n || x.byteSize() % 4 != 0) {
            throw new IllegalArgumentException("FP8 quantisation: shape [" + rows + ", " + cols + "] does not hold the " + n
                    + " input values");
        }
        long ns = block.scaleCount(rows, cols);
        if (q.byteSize() != n || scales.byteSize() != 4 * ns) {
            throw new IllegalArgumentException("FP8 quantisation of [" + rows + ", " + cols + "] in " + block.cliName() + " tiles needs "
                    + n + " code bytes and " + ns + " scales, got " + q.byteSize() + " bytes and " + scales.byteSize() + " scale bytes");
        }
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(DEVICE); CudaStream stream = CudaStream.create(DEVICE)) {
            DeviceBuffer dx = dev.allocate(x.byteSize());
            DeviceBuffer dq = dev.allocate(n);
            DeviceBuffer ds = dev.allocate(4 * ns);
            DeviceBuffer flag = dev.allocate(4);
            dx.copyFrom(staged(host, x), stream);
            flag.clear(stream);
            NativeStatus.check(moe_h.moe_fp8_quantize_cuda(DEVICE, stream.handle(), dx.pointer(), n, rows, cols, block.nativeCode(),
                    pow2 ? 1 : 0, dq.pointer(), n, ds.pointer(), ns, flag.pointer()), "moe_fp8_quantize_cuda");
            MemorySegment hq = host.allocate(Math.max(1, n)).asSlice(0, n);
            MemorySegment hs = host.allocate(Math.max(4, 4 * ns), 4).asSlice(0, 4 * ns);
            MemorySegment hf = host.allocate(ValueLayout.JAVA_INT);
            dq.copyTo(hq, stream);
            ds.copyTo(hs, stream);
            flag.copyTo(hf, stream);
            stream.synchronize();
            if (hf.get(ValueLayout.JAVA_INT, 0) != 0) {
                NativeFp8.requireFinite(x, cols);  // names the first bad element
            }
            q.copyFrom(hq);
            scales.copyFrom(hs);
        }
    }

    /** Array form. */
    static QuantizedTensor quantize(float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        BlockQuantizer.requireShape(x, rows, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            long ns = block.scaleCount(rows, cols);
            MemorySegment q = arena.allocate(Math.max(1, x.length)).asSlice(0, x.length);
            MemorySegment s = arena.allocate(Math.max(4, 4 * ns), 4).asSlice(0, 4 * ns);
            quantize(xs, rows, cols, block, pow2, q, s);
            return new QuantizedTensor(rows, cols, block, pow2, q.toArray(ValueLayout.JAVA_BYTE), s.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    /** E4M3 codes of every float of {@code in} into {@code out}, on the GPU. */
    static void encode(MemorySegment in, MemorySegment out) {
        long n = out.byteSize();
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(DEVICE); CudaStream stream = CudaStream.create(DEVICE)) {
            DeviceBuffer din = dev.allocate(in.byteSize());
            DeviceBuffer dout = dev.allocate(n);
            din.copyFrom(staged(host, in), stream);
            NativeStatus.check(moe_h.moe_fp8_e4m3_encode_cuda(DEVICE, stream.handle(), din.pointer(), n, dout.pointer(), n),
                    "moe_fp8_e4m3_encode_cuda");
            MemorySegment h = host.allocate(Math.max(1, n)).asSlice(0, n);
            dout.copyTo(h, stream);
            stream.synchronize();
            out.copyFrom(h);
        }
    }

    private static MemorySegment staged(Arena arena, MemorySegment s) {
        if (s.isNative()) {
            return s;
        }
        MemorySegment copy = arena.allocate(Math.max(1, s.byteSize()), 16).asSlice(0, s.byteSize());
        copy.copyFrom(s);
        return copy;
    }
}
