package dev.moe.fp8;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendUnavailableException;

/**
 * FP8 block quantisation on a chosen backend: {@code java} (the reference {@link BlockQuantizer}),
 * {@code cpu} (the native kernel) or {@code cuda} (the GPU kernel), all bit-identical. {@code auto}
 * picks cuda when a GPU is usable, else cpu when the native library loads, else java; a backend named
 * explicitly that cannot run here throws {@link BackendUnavailableException}, it is never silently replaced.
 */
public final class Fp8Quantizer {
    private final Backend backend;
    private final int device;

    private Fp8Quantizer(Backend backend, int device) {
        this.backend = backend;
        this.device = device;
    }

    /**
     * A quantizer on {@code backend} (AUTO resolved as described above). Instances are immutable and thread-safe.
     *
     * @param backend JAVA, CPU, CUDA or AUTO
     * @return the quantizer
     * @throws BackendUnavailableException if a backend named explicitly cannot run here
     */
    public static Fp8Quantizer create(Backend backend) {
        return new Fp8Quantizer(Fp8Backends.resolve(backend), 0);
    }

    /**
     * A quantizer on CUDA device {@code device} ({@link #create} uses device 0).
     *
     * @param device the CUDA device index, &ge; 0
     * @return the quantizer
     * @throws BackendUnavailableException if no GPU is usable
     */
    public static Fp8Quantizer cuda(int device) {
        Fp8Backends.requireDevice(device);
        return new Fp8Quantizer(Fp8Backends.resolve(Backend.CUDA), device);
    }

    /** {@return the concrete backend this quantizer runs on (JAVA, CPU or CUDA)} */
    public Backend backend() {
        return backend;
    }

    /**
     * Quantises x [rows, cols] (C order) in {@code block} tiles.
     *
     * @param x     float [rows*cols], row-major, every value finite
     * @param rows  number of rows, &ge; 0
     * @param cols  number of columns, &ge; 0
     * @param block the tile shape
     * @param pow2  round each scale up to a power of two ("ue8m0" scales)
     * @return the codes and scales (new arrays)
     * @throws IllegalArgumentException if the shape does not match {@code x.length}
     * @throws NonFiniteTensorException naming the first NaN or infinite element
     */
    public QuantizedTensor quantize(float[] x, int rows, int cols, Fp8Block block, boolean pow2) {
        return switch (backend) {
            case CPU -> NativeFp8.quantize(x, rows, cols, block, pow2);
            case CUDA -> CudaFp8.quantize(device, x, rows, cols, block, pow2);
            default -> BlockQuantizer.quantize(x, rows, cols, block, pow2);
        };
    }

    /**
     * Quantises x float32 [rows, cols] (C order, native byte order) into {@code q} (rows * cols code
     * bytes) and {@code scales} ({@link Fp8Block#scaleCount} floats). On the cpu backend the segments are
     * used in place (they must be off-heap, floats 4-byte aligned), so a memory-mapped input is never
     * copied; the cuda backend copies through native memory to the device; the java backend copies
     * through arrays and so needs fewer than 2^31 elements.
     *
     * @param x      float32 [rows, cols], every value finite
     * @param rows   number of rows, &ge; 0
     * @param cols   number of columns, &ge; 0
     * @param block  the tile shape
     * @param pow2   round each scale up to a power of two
     * @param q      receives the E4M3 codes, exactly rows * cols bytes
     * @param scales receives the tile scales, exactly {@code block.scaleCount(rows, cols)} floats
     * @throws IllegalArgumentException if the shape and the segment sizes disagree (or, on cpu, a
     *         segment is not native)
     * @throws NonFiniteTensorException naming the first NaN or infinite element
     */
    public void quantize(MemorySegment x, long rows, long cols, Fp8Block block, boolean pow2, MemorySegment q,
                         MemorySegment scales) {
        if (backend == Backend.CPU) {
            NativeFp8.quantize(x, rows, cols, block, pow2, q, scales);
            return;
        }
        if (backend == Backend.CUDA) {
            CudaFp8.quantize(device, x, rows, cols, block, pow2, q, scales);
            return;
        }
        if (x.byteSize() > 4L * (Integer.MAX_VALUE - 8)) {
            throw new IllegalArgumentException("the java backend quantises fewer than 2^31 elements; use --backend cpu");
        }
        float[] values = x.toArray(ValueLayout.JAVA_FLOAT);
        BlockQuantizer.requireShape(values, rows, cols);
        if (q.byteSize() != values.length || scales.byteSize() != 4 * block.scaleCount(rows, cols)) {
            throw new IllegalArgumentException("FP8 quantisation of [" + rows + ", " + cols + "] in " + block.cliName()
                    + " tiles needs " + values.length + " code bytes and " + block.scaleCount(rows, cols) + " scales, got "
                    + q.byteSize() + " bytes and " + scales.byteSize() + " scale bytes");
        }
        QuantizedTensor t = BlockQuantizer.quantize(values, (int) rows, (int) cols, block, pow2);
        MemorySegment.copy(t.codes(), 0, q, ValueLayout.JAVA_BYTE, 0, t.codes().length);
        MemorySegment.copy(t.scales(), 0, scales, ValueLayout.JAVA_FLOAT, 0, t.scales().length);
    }

    /**
     * E4M3-encodes every float of {@code in} into the byte at the same index of {@code out} (no
     * scaling): the native codec on cpu and cuda, {@link E4m3#encode} on java. Segments must be native on cpu.
     *
     * @param in  float32 values, native byte order
     * @param out receives one code per float
     * @throws IllegalArgumentException if {@code out} does not hold exactly one byte per float of {@code in}
     */
    public void encode(MemorySegment in, MemorySegment out) {
        if (out.byteSize() * Float.BYTES != in.byteSize()) {
            throw new IllegalArgumentException("encode: " + in.byteSize() / Float.BYTES + " floats into " + out.byteSize() + " bytes");
        }
        if (backend == Backend.CPU) {
            NativeFp8.encode(in, out);
            return;
        }
        if (backend == Backend.CUDA) {
            CudaFp8.encode(device, in, out);
            return;
        }
        for (long i = 0; i < out.byteSize(); i++) {
            out.set(ValueLayout.JAVA_BYTE, i, E4m3.encode(in.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
    }
}
