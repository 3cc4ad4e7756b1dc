package dev.moe.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.routing.NativeStatus;

/**
 * One FP8 GEMM on CUDA device 0 with its operands already on the device, for {@code bench fp8-gemm}:
 * {@link #run} enqueues the kernel and waits for it, so a timing measures the kernel (plus one launch
 * and one synchronisation), not host copies.
 */
final class CudaGemmRun implements AutoCloseable {
    private static final int DEVICE = 0;

    private final DeviceArena arena = new DeviceArena(DEVICE);
    private final CudaStream stream;
    private final Arena host = Arena.ofConfined();
    private final int m;
    private final int n;
    private final int k;
    private final int experts;
    private final CudaGemmKernel kernel;
    private final MemorySegment offsets;
    private final DeviceBuffer a;
    private final DeviceBuffer as;
    private final DeviceBuffer b;
    private final DeviceBuffer bs;
    private final DeviceBuffer c;

    CudaGemmRun(QuantizedTensor x, ExpertWeights w, int[] rowOffsets, CudaGemmKernel kernel) {
        this.stream = CudaStream.create(DEVICE);
        this.kernel = kernel;
        this.m = x.rows();
        this.n = w.rows();
        this.k = x.cols();
        this.experts = w.experts();
        this.offsets = host.allocate(ValueLayout.JAVA_LONG, rowOffsets.length);
        for (int i = 0; i < rowOffsets.length; i++) {
            offsets.setAtIndex(ValueLayout.JAVA_LONG, i, rowOffsets[i]);
        }
        a = upload(host.allocateFrom(ValueLayout.JAVA_BYTE, x.codes()));
        as = upload(host.allocateFrom(ValueLayout.JAVA_FLOAT, x.scales()));
        b = upload(host.allocateFrom(ValueLayout.JAVA_BYTE, w.codes()));
        bs = upload(host.allocateFrom(ValueLayout.JAVA_FLOAT, w.scales()));
        c = arena.allocate(4L * m * n);
        stream.synchronize();
    }

    private DeviceBuffer upload(MemorySegment s) {
        DeviceBuffer d = arena.allocate(s.byteSize());
        d.copyFrom(s, stream);
        return d;
    }

    /** One GEMM, waited for. */
    void run() {
        NativeStatus.check(launch(), "FP8 GEMM on CUDA (" + kernel.benchRow() + ")");
        stream.synchronize();
    }

    /** Whether this device runs the kernel (tensor cores: compute capability 8.0+; wgmma: 9.0), after one warm-up call. */
    boolean supported() {
        int st = launch();
        if (st == moe_h.MOE_STATUS_UNSUPPORTED_GPU()) {
            return false;
        }
        NativeStatus.check(st, "FP8 GEMM on CUDA");
        stream.synchronize();
        return true;
    }

    private int launch() {
        long kc = (k + 127) / 128;
        long nc = (n + 127) / 128;
        long bsCount = (long) experts * nc * kc;
        if (experts == 1) {
            return kernel.dense(DEVICE, stream.handle(), m, n, k, a.pointer(), a.bytes(), as.pointer(), (long) m * kc, b.pointer(),
                    b.bytes(), bs.pointer(), bsCount, c.pointer(), (long) m * n);
        }
        return kernel.contiguous(DEVICE, stream.handle(), experts, offsets, n, k, a.pointer(), a.bytes(), as.pointer(), (long) m * kc,
                b.pointer(), b.bytes(), bs.pointer(), bsCount, c.pointer(), (long) m * n);
    }

    /** Name of device 0. */
    static String deviceName() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            NativeStatus.check(moe_h.moe_cuda_device_name(DEVICE, name, name.byteSize()), "moe_cuda_device_name");
            return name.getString(0);
        }
    }

    /**
     * Dense FP8 tensor-core peak in TFLOP/s of a known data-centre GPU (vendor data sheets, without
     * sparsity), NaN for others. H100/H200/H800 SXM 1979, H100 PCIe 1513, L40S 733.
     */
    static double fp8PeakTflops(String device) {
        String d = device.toUpperCase(Locale.ROOT);
        if (d.contains("H100") && d.contains("PCIE")) {
            return 1513;
        }
        if (d.contains("H100") || d.contains("H200") || d.contains("H800") || d.contains("GH200")) {
            return 1979;
        }
        if (d.contains("L40S")) {
            return 733;
        }
        return Double.NaN;
    }

    /** HBM bandwidth in GB/s of a known GPU (data sheets), NaN for others. */
    static double hbmGbs(String device) {
        String d = device.toUpperCase(Locale.ROOT);
        if (d.contains("H200")) {
            return 4800;
        }
        if (d.contains("H100") && d.contains("PCIE")) {
            return 2000;
        }
        if (d.contains("H100") || d.contains("H800")) {
            return 3350;
        }
        return Double.NaN;
    }

    @Override
    public void close() {
        try {
            stream.close();
        } finally {
            try {
                arena.close();
            } finally {
                host.close();
            }
        }
    }
}
