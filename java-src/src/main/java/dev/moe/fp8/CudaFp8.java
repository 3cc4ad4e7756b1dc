package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.nativecall.NativeStatus;

/**
 * FP8 block quantisation, encoding and GEMMs on a CUDA device ({@code moe_fp8_*_cuda}): quantisation
 * bit-identical to the CPU kernels, GEMMs bit-identical to {@link Fp8GemmReference}. Host data is copied to device buffers owned by a per-call {@link DeviceArena}, the kernel
 * runs on a per-call stream, and results come back before returning.
 */
final class CudaFp8 {
    private CudaFp8() {}

    /** As {@link NativeFp8#quantize(MemorySegment, long, long, Fp8Block, boolean, MemorySegment, MemorySegment)}, on the GPU. */
    static void quantize(int device, MemorySegment x, long rows, long cols, Fp8Block block, boolean pow2, MemorySegment q,
                         MemorySegment scales) {
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
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(device); CudaStream stream = CudaStream.create(device)) {
            DeviceBuffer dx = dev.allocate(x.byteSize());
            DeviceBuffer dq = dev.allocate(n);
            DeviceBuffer ds = dev.allocate(4 * ns);
            DeviceBuffer flag = dev.allocate(4);
            dx.copyFrom(staged(host, x), stream);
            flag.clear(stream);
            NativeStatus.check(moe_h.moe_fp8_quantize_cuda(device, stream.handle(), dx.pointer(), n, rows, cols, block.nativeCode(),
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
    static QuantizedTensor quantize(int device, float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        BlockQuantizer.requireShape(x, rows, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            long ns = block.scaleCount(rows, cols);
            MemorySegment q = arena.allocate(Math.max(1, x.length)).asSlice(0, x.length);
            MemorySegment s = arena.allocate(Math.max(4, 4 * ns), 4).asSlice(0, 4 * ns);
            quantize(device, xs, rows, cols, block, pow2, q, s);
            return new QuantizedTensor(rows, cols, block, pow2, q.toArray(ValueLayout.JAVA_BYTE), s.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    /** E4M3 codes of every float of {@code in} into {@code out}, on the GPU (quantisation without scales). */
    static void encode(int device, MemorySegment in, MemorySegment out) {
        long n = out.byteSize();
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(device); CudaStream stream = CudaStream.create(device)) {
            DeviceBuffer din = dev.allocate(in.byteSize());
            DeviceBuffer dout = dev.allocate(n);
            din.copyFrom(staged(host, in), stream);
            NativeStatus.check(moe_h.moe_fp8_quantize_cuda(device, stream.handle(), din.pointer(), n, 1, n, moe_h.MOE_FP8_BLOCK_NONE(), 0,
                    dout.pointer(), n, MemorySegment.NULL, 0, MemorySegment.NULL), "moe_fp8_quantize_cuda (encode)");
            MemorySegment h = host.allocate(Math.max(1, n)).asSlice(0, n);
            dout.copyTo(h, stream);
            stream.synchronize();
            out.copyFrom(h);
        }
    }

    /** C = A·Bᵀ on the GPU (operands already checked by {@link Fp8Gemm}). */
    static float[] gemm(int device, QuantizedTensor a, QuantizedTensor b, CudaGemmKernel kernel) {
        ExpertWeights w = new ExpertWeights(1, b.rows(), b.cols(), b.codes(), b.scales());
        return onGpu(device, a, w, o -> DeviceFp8Gemm.dense(kernel, o.stream(), a.rows(), b.rows(), a.cols(), o.a(), o.sa(), o.b(), o.sb(),
                o.c()));
    }

    /** Grouped contiguous GEMM on the GPU (operands already checked by {@link Fp8Gemm}). */
    static float[] groupedContiguous(int device, QuantizedTensor a, int[] offsets, ExpertWeights w, CudaGemmKernel kernel) {
        return onGpu(device, a, w, o -> DeviceFp8Gemm.groupedContiguous(kernel, o.stream(), offsets, w.rows(), a.cols(), o.a(), o.sa(),
                o.b(), o.sb(), o.c()));
    }

    /** Masked grouped GEMM on the GPU, counts uploaded with the operands (checked by {@link Fp8Gemm}). */
    static float[] groupedMasked(int device, QuantizedTensor a, int maxM, int[] counts, ExpertWeights w, CudaGemmKernel kernel) {
        return onGpu(device, a, w, o -> DeviceFp8Gemm.groupedMasked(kernel, o.stream(), w.experts(), maxM,
                upload(o.dev(), o.host(), MemorySegment.ofArray(counts), o.stream()), w.rows(), a.cols(), o.a(), o.sa(), o.b(), o.sb(),
                o.c()));
    }

    /** The operands of one GEMM call, on the device (C not yet computed). */
    private record Operands(CudaStream stream, Arena host, DeviceArena dev, DeviceBuffer a, DeviceBuffer sa, DeviceBuffer b,
                            DeviceBuffer sb, DeviceBuffer c) {}

    /** A and B uploaded, {@code launch} enqueued, C [rows(A), rows(B)] copied back. */
    private static float[] onGpu(int device, QuantizedTensor a, ExpertWeights w, java.util.function.Consumer<Operands> launch) {
        long m = a.rows();
        long n = w.rows();
        float[] out = new float[Math.toIntExact(m * n)];
        if (m == 0 || n == 0) {
            return out;
        }
        try (Arena host = Arena.ofConfined(); DeviceArena dev = new DeviceArena(device); CudaStream stream = CudaStream.create(device)) {
            Operands o = new Operands(stream, host, dev, upload(dev, host, MemorySegment.ofArray(a.codes()), stream),
                    upload(dev, host, MemorySegment.ofArray(a.scales()), stream), upload(dev, host, MemorySegment.ofArray(w.codes()), stream),
                    upload(dev, host, MemorySegment.ofArray(w.scales()), stream), dev.allocate(4 * m * n));
            launch.accept(o);
            MemorySegment hc = host.allocate(ValueLayout.JAVA_FLOAT, m * n);
            o.c().copyTo(hc, stream);
            stream.synchronize();
            MemorySegment.copy(hc, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
            return out;
        }
    }

    private static DeviceBuffer upload(DeviceArena dev, Arena host, MemorySegment s, CudaStream stream) {
        DeviceBuffer d = dev.allocate(Math.max(1, s.byteSize()));
        if (s.byteSize() > 0) {
            d.copyFrom(staged(host, s), stream);
        }
        return d;
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
