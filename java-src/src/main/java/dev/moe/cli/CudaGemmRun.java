package dev.moe.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

import dev.moe.cuda.CudaDevice;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceArena;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.fp8.DeviceFp8Gemm;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.nativelib.CudaException;

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
    private final int[] offsets;
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
        this.offsets = rowOffsets.clone();
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
        launch();
        stream.synchronize();
    }

    /** Whether this device runs the kernel (tensor cores: compute capability 8.0+; wgmma: 9.0), after one warm-up call. */
    boolean supported() {
        try {
            launch();
        } catch (CudaException e) {
            if (e.unsupportedGpu()) {
                return false;
            }
            throw e;
        }
        stream.synchronize();
        return true;
    }

    private void launch() {
        if (experts == 1) {
            DeviceFp8Gemm.dense(kernel, stream, m, n, k, a, as, b, bs, c);
        } else {
            DeviceFp8Gemm.groupedContiguous(kernel, stream, offsets, n, k, a, as, b, bs, c);
        }
    }

    /** Name of device 0. */
    static String deviceName() {
        return CudaDevice.query(DEVICE).name();
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
