package dev.moe.fp8;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import dev.moe.backend.Backend;
import dev.moe.cuda.CudaDevice;

/**
 * FP8 block-scaled GEMMs on a chosen backend ({@code java}: {@link Fp8GemmReference}; {@code cpu}:
 * the native AVX2 kernel; {@code cuda}: the CUDA kernel, dense and grouped-contiguous). C = A·Bᵀ with
 * A [M, K] quantised 1×128 (activations) and B [N, K] quantised 128×128 (weights, one row per output
 * channel), FP32 accumulation promoted per 128-K chunk.
 * Grouped over experts in two layouts: contiguous (rows of A sorted by expert, with offsets; prefill
 * and training) and masked (a fixed number of row slots per expert with counts; decode).
 *
 * <p>Every input is checked here, before native code sees it: tile shapes, matching K, NaN codes
 * (0x7F/0xFF, which no quantizer produces), finite scales, offsets and counts. Instances are
 * immutable and thread-safe.
 */
public final class Fp8Gemm {
    private final Backend backend;
    private final boolean vector;
    private final CudaGemmKernel kernel;
    private final int device;

    private Fp8Gemm(Backend backend, boolean vector) {
        this(backend, vector, CudaGemmKernel.EXACT, 0);
    }

    private Fp8Gemm(Backend backend, boolean vector, CudaGemmKernel kernel, int device) {
        this.backend = backend;
        this.vector = vector;
        this.kernel = kernel;
        this.device = device;
    }

    /**
     * A GEMM on {@code backend}; AUTO is cuda when a usable GPU exists, else cpu when the native library
     * loads, else java (the choice logged at INFO). CUDA (named or picked by AUTO) runs the exact CUDA-core
     * kernels on device 0, which give the reference's bits; cpu agrees with it to FP32 rounding (a chunk is
     * summed in the kernel's own order). The tensor cores are asked for explicitly
     * ({@link #cudaTensorCores()}, {@link #cuda(int, CudaGemmKernel)}).
     *
     * @param backend JAVA, CPU, CUDA or AUTO
     * @return the GEMM
     * @throws dev.moe.backend.BackendUnavailableException if a backend named explicitly cannot run here
     */
    public static Fp8Gemm create(Backend backend) {
        Objects.requireNonNull(backend, "backend");
        return new Fp8Gemm(Fp8Backends.resolve(backend), false);
    }

    /**
     * The pure-Java Vector API implementation (no native code), when the JVM runs with
     * {@code --add-modules jdk.incubator.vector}; dense {@link #gemm(QuantizedTensor, QuantizedTensor)}
     * only (the other methods run the scalar reference).
     *
     * @return the Vector API GEMM, on the JAVA backend
     * @throws UnsupportedOperationException if the module is not present
     */
    public static Fp8Gemm vector() {
        if (!vectorApiAvailable()) {
            throw new UnsupportedOperationException("the Vector API FP8 GEMM needs the JVM option --add-modules jdk.incubator.vector");
        }
        return new Fp8Gemm(Backend.JAVA, true);
    }

    /**
     * The CUDA GEMMs on the tensor cores of device 0, the fastest kernel it runs
     * ({@link CudaGemmKernel#fastestFor(CudaDevice)}: Hopper's TMA-fed wgmma kernel on compute capability 9.0,
     * mma.sync from 8.0, FP8 from 8.9 and codes decoded exactly to BF16 before): each 128-wide k chunk is
     * summed by the tensor cores and promoted to FP32 on the CUDA cores, so results are close to
     * {@link Fp8GemmReference}, not bit-identical. Dense, grouped-contiguous and grouped-masked.
     *
     * @return the GEMM
     * @throws dev.moe.backend.BackendUnavailableException when the CUDA backend is not usable
     */
    public static Fp8Gemm cudaTensorCores() {
        return cuda(0, true);
    }

    /**
     * The CUDA GEMMs on device {@code device}: the exact CUDA-core kernels (bit-identical to
     * {@link Fp8GemmReference}), or with {@code tensorCores} the fastest tensor-core kernel of the device
     * (see {@link #cudaTensorCores()}).
     *
     * @param device      the CUDA device index, &ge; 0
     * @param tensorCores whether to use the tensor cores
     * @return the GEMM
     * @throws dev.moe.backend.BackendUnavailableException when the CUDA backend is not usable
     */
    public static Fp8Gemm cuda(int device, boolean tensorCores) {
        Fp8Backends.requireDevice(device);
        Backend b = Fp8Backends.resolve(Backend.CUDA);
        return new Fp8Gemm(b, false, tensorCores ? CudaGemmKernel.fastestFor(CudaDevice.query(device)) : CudaGemmKernel.EXACT,
                device);
    }

    /**
     * The CUDA GEMMs of one named kernel on device {@code device} (to compare kernels, or to pin one).
     *
     * @param device the CUDA device index, &ge; 0
     * @param kernel the kernel
     * @return the GEMM
     * @throws dev.moe.backend.BackendUnavailableException when the CUDA backend is not usable
     * @throws IllegalArgumentException when the device does not run the kernel (its compute capability)
     */
    public static Fp8Gemm cuda(int device, CudaGemmKernel kernel) {
        Objects.requireNonNull(kernel, "kernel");
        Fp8Backends.requireDevice(device);
        Backend b = Fp8Backends.resolve(Backend.CUDA);
        CudaDevice d = CudaDevice.query(device);
        if (!kernel.runsOn(d)) {
            throw new IllegalArgumentException("CUDA device " + device + " (compute capability " + d.capabilityText()
                    + (d.capability() == 90 && !d.hasWgmmaImage() ? ", library built without its sm_90a image" : "")
                    + ") does not run the " + kernel.label() + " FP8 GEMM kernel");
        }
        return new Fp8Gemm(b, false, kernel, device);
    }

    /** Whether this instance runs on tensor cores ({@link #cudaTensorCores()}). */
    public boolean isTensorCores() {
        return backend == Backend.CUDA && kernel.tensorCores();
    }

    /** {@return the CUDA kernel this instance runs ({@link CudaGemmKernel#EXACT} on the other backends, unused there)} */
    public CudaGemmKernel cudaKernel() {
        return kernel;
    }

    /**
     * {@return whether {@link #vector()} can be used in this JVM (the {@code jdk.incubator.vector} module is present)}
     */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** {@return whether this instance is the Vector API implementation} */
    public boolean isVector() {
        return vector;
    }

    /** {@return the concrete backend (JAVA, CPU or CUDA)} */
    public Backend backend() {
        return backend;
    }

    /**
     * C = A·Bᵀ.
     *
     * @param a activations [M, K] in 1×128 tiles
     * @param b weights [N, K] in 128×128 blocks
     * @return C float [M, N], row-major
     * @throws IllegalArgumentException if the tile shapes or K do not match, a code is NaN or a scale is not finite
     */
    public float[] gemm(QuantizedTensor a, QuantizedTensor b) {
        checkPair(a, b);
        if (backend == Backend.CPU) {
            return NativeFp8Gemm.gemm(a, b);
        }
        if (backend == Backend.CUDA) {
            return CudaFp8.gemm(device, a, b, kernel);
        }
        return vector ? Fp8GemmVector.gemm(a, b) : Fp8GemmReference.gemm(a, b);
    }

    /**
     * Zero-copy dense GEMM on native memory, the hot path for callers that keep operands off-heap.
     * Segment sizes and scales are checked; on the cpu backend the codes are not scanned for NaN codes
     * (the kernel stays memory-safe for any byte, NaN codes just give unspecified values). On the java
     * and cuda backends the segments are copied to arrays (and NaN codes are rejected).
     *
     * @param m       M, rows of A and C
     * @param n       N, rows of B, columns of C
     * @param k       K, the inner dimension
     * @param aCodes  A codes [M, K]
     * @param aScales A 1×128 scales float [M, ceil(K/128)]
     * @param bCodes  B codes [N, K]
     * @param bScales B 128×128 scales float [ceil(N/128), ceil(K/128)]
     * @param c       C float [M, N], overwritten
     * @throws IllegalArgumentException if a dimension is negative, a segment's size does not match its
     *         shape, or a scale is not finite
     */
    public void gemm(int m, int n, int k, MemorySegment aCodes, MemorySegment aScales, MemorySegment bCodes,
                     MemorySegment bScales, MemorySegment c) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative GEMM shape m=" + m + " n=" + n + " k=" + k);
        }
        requireBytes(aCodes, (long) m * k, "A codes");
        requireBytes(aScales, 4 * Fp8Block.ROW_1X128.scaleCount(m, k), "A scales");
        requireBytes(bCodes, (long) n * k, "B codes");
        requireBytes(bScales, 4 * Fp8Block.TILE_128X128.scaleCount(n, k), "B scales");
        requireBytes(c, 4L * m * n, "C");
        checkScales(aScales.toArray(ValueLayout.JAVA_FLOAT), "A");
        checkScales(bScales.toArray(ValueLayout.JAVA_FLOAT), "B");
        if (backend == Backend.CPU) {
            NativeFp8Gemm.gemm(m, n, k, aCodes, aScales, bCodes, bScales, c);
            return;
        }
        QuantizedTensor a = new QuantizedTensor(m, k, Fp8Block.ROW_1X128, false, aCodes.toArray(ValueLayout.JAVA_BYTE),
                aScales.toArray(ValueLayout.JAVA_FLOAT));
        QuantizedTensor b = new QuantizedTensor(n, k, Fp8Block.TILE_128X128, false, bCodes.toArray(ValueLayout.JAVA_BYTE),
                bScales.toArray(ValueLayout.JAVA_FLOAT));
        MemorySegment.copy(gemm(a, b), 0, c, ValueLayout.JAVA_FLOAT, 0, m * n);
    }

    /**
     * Zero-copy grouped GEMM, contiguous layout, on native memory (see {@link #groupedContiguous(QuantizedTensor,
     * int[], ExpertWeights)} for the layout). cpu backend only.
     *
     * @param offsets int [E+1], offsets[0] = 0, non-decreasing, offsets[E] = M
     * @param n       N, output channels per expert
     * @param k       K, the inner dimension
     * @param aCodes  A codes [M, K]
     * @param aScales A 1×128 scales float [M, ceil(K/128)]
     * @param wCodes  weight codes [E, N, K]
     * @param wScales weight scales float [E, ceil(N/128), ceil(K/128)]
     * @param c       C float [M, N], overwritten
     * @throws IllegalArgumentException if the offsets are invalid, a segment's size does not match its
     *         shape, or a scale is not finite
     * @throws UnsupportedOperationException if this GEMM's backend is not cpu
     */
    public void groupedContiguous(int[] offsets, int n, int k, MemorySegment aCodes, MemorySegment aScales,
                                  MemorySegment wCodes, MemorySegment wScales, MemorySegment c) {
        Objects.requireNonNull(offsets, "offsets");
        int experts = offsets.length - 1;
        if (experts < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("contiguous layout needs E+1 >= 1 offsets and n, k >= 0");
        }
        int m = offsets[experts];
        checkOffsets(offsets, experts, m);
        requireBytes(aCodes, (long) m * k, "A codes");
        requireBytes(aScales, 4 * Fp8Block.ROW_1X128.scaleCount(m, k), "A scales");
        requireBytes(wCodes, (long) experts * n * k, "weight codes");
        requireBytes(wScales, 4 * experts * Fp8Block.TILE_128X128.scaleCount(n, k), "weight scales");
        requireBytes(c, 4L * m * n, "C");
        checkScales(aScales.toArray(ValueLayout.JAVA_FLOAT), "A");
        checkScales(wScales.toArray(ValueLayout.JAVA_FLOAT), "expert weights");
        if (backend != Backend.CPU) {
            throw new UnsupportedOperationException("the zero-copy grouped GEMM runs on the cpu backend; use the array form on java");
        }
        NativeFp8Gemm.groupedContiguous(offsets, n, k, aCodes, aScales, wCodes, wScales, c);
    }

    private static void requireBytes(MemorySegment s, long bytes, String what) {
        Objects.requireNonNull(s, what);
        if (s.byteSize() != bytes) {
            throw new IllegalArgumentException(what + ": segment of " + s.byteSize() + " bytes, the shape needs " + bytes);
        }
    }

    /**
     * Grouped, contiguous layout: expert e multiplies rows {@code offsets[e] .. offsets[e+1]-1} of A
     * by its weights.
     *
     * @param a       activations [M, K] in 1×128 tiles, rows sorted by expert
     * @param offsets int [E+1], offsets[0] = 0, non-decreasing, offsets[E] = M
     * @param w       the E experts' weights [E, N, K]
     * @return C float [M, N], rows in A's order
     * @throws IllegalArgumentException if the tile shapes, K or the offsets do not match, a code is NaN
     *         or a scale is not finite
     */
    public float[] groupedContiguous(QuantizedTensor a, int[] offsets, ExpertWeights w) {
        checkGrouped(a, w);
        checkOffsets(offsets, w.experts(), a.rows());
        if (backend == Backend.CPU) {
            return NativeFp8Gemm.groupedContiguous(a, offsets, w);
        }
        if (backend == Backend.CUDA) {
            return CudaFp8.groupedContiguous(device, a, offsets, w, kernel);
        }
        float[] c = new float[a.rows() * w.rows()];
        for (int e = 0; e < w.experts(); e++) {
            Fp8GemmReference.gemm(offsets[e + 1] - offsets[e], w.rows(), w.cols(), a.codes(), offsets[e], a.scales(), offsets[e],
                    w.codes(), e * w.rows() * w.cols(), w.scales(), e * w.scalesPerExpert(), c, offsets[e]);
        }
        return c;
    }

    /**
     * Grouped, masked layout: A holds E blocks of {@code maxM} row slots; expert e uses its first
     * {@code counts[e]} slots.
     *
     * @param a      activations [E·maxM, K] in 1×128 tiles
     * @param maxM   row slots per expert, &ge; 0
     * @param counts int [E], rows used per expert, each in 0..maxM
     * @param w      the E experts' weights [E, N, K]
     * @return C float [E·maxM, N], with unused slots 0
     * @throws IllegalArgumentException if the shapes, K or the counts do not match, a code is NaN or a
     *         scale is not finite
     */
    public float[] groupedMasked(QuantizedTensor a, int maxM, int[] counts, ExpertWeights w) {
        checkGrouped(a, w);
        Objects.requireNonNull(counts, "counts");
        if (counts.length != w.experts() || maxM < 0 || (long) maxM * w.experts() != a.rows()) {
            throw new IllegalArgumentException("masked layout: A must have E*maxM = " + w.experts() + "*" + maxM + " rows and "
                    + "counts E = " + w.experts() + " values; got " + a.rows() + " rows and " + counts.length + " counts");
        }
        for (int e = 0; e < counts.length; e++) {
            if (counts[e] < 0 || counts[e] > maxM) {
                throw new IllegalArgumentException("masked layout: counts[" + e + "] = " + counts[e] + " is outside 0.." + maxM);
            }
        }
        if (backend == Backend.CPU) {
            return NativeFp8Gemm.groupedMasked(a, maxM, counts, w);
        }
        if (backend == Backend.CUDA) {
            return CudaFp8.groupedMasked(device, a, maxM, counts, w, kernel);
        }
        float[] c = new float[a.rows() * w.rows()];
        for (int e = 0; e < w.experts(); e++) {
            Fp8GemmReference.gemm(counts[e], w.rows(), w.cols(), a.codes(), e * maxM, a.scales(), e * maxM, w.codes(),
                    e * w.rows() * w.cols(), w.scales(), e * w.scalesPerExpert(), c, e * maxM);
        }
        return c;
    }

    static void checkPair(QuantizedTensor a, QuantizedTensor b) {
        checkActivations(a);
        Objects.requireNonNull(b, "b");
        if (b.block() != Fp8Block.TILE_128X128) {
            throw new IllegalArgumentException("B (weights) must be quantised in 128x128 blocks, got " + b.block().cliName());
        }
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException("inner dimensions differ: A is [" + a.rows() + ", " + a.cols() + "], B is ["
                    + b.rows() + ", " + b.cols() + "] (C = A·Bᵀ needs equal K)");
        }
        checkCodes(b.codes(), b.cols(), "B");
        checkScales(b.scales(), "B");
    }

    private static void checkGrouped(QuantizedTensor a, ExpertWeights w) {
        checkActivations(a);
        Objects.requireNonNull(w, "weights");
        if (a.cols() != w.cols()) {
            throw new IllegalArgumentException("inner dimensions differ: A has K = " + a.cols() + ", the expert weights K = " + w.cols());
        }
        w.requireValidContents();
    }

    private static void checkActivations(QuantizedTensor a) {
        Objects.requireNonNull(a, "a");
        if (a.block() != Fp8Block.ROW_1X128) {
            throw new IllegalArgumentException("A (activations) must be quantised in 1x128 tiles, got " + a.block().cliName());
        }
        checkCodes(a.codes(), a.cols(), "A");
        checkScales(a.scales(), "A");
    }

    private static void checkOffsets(int[] offsets, int experts, int rows) {
        Objects.requireNonNull(offsets, "offsets");
        if (offsets.length != experts + 1 || offsets[0] != 0 || offsets[experts] != rows) {
            throw new IllegalArgumentException("contiguous layout: offsets must be E+1 = " + (experts + 1) + " values from 0 to M = "
                    + rows + ", got " + offsets.length + " values" + (offsets.length > 0 ? " from " + offsets[0] + " to "
                    + offsets[offsets.length - 1] : ""));
        }
        for (int e = 0; e < experts; e++) {
            if (offsets[e + 1] < offsets[e]) {
                throw new IllegalArgumentException("contiguous layout: offsets decrease at expert " + e + " (" + offsets[e] + " > "
                        + offsets[e + 1] + ")");
            }
        }
    }

    static void checkCodes(byte[] codes, int cols, String what) {
        for (int i = 0; i < codes.length; i++) {
            if (E4m3.isNaN(codes[i])) {
                throw new IllegalArgumentException(what + ": element [" + (i / cols) + ", " + (i % cols)
                        + "] holds the E4M3 NaN code 0x" + Integer.toHexString(codes[i] & 0xFF));
            }
        }
    }

    static void checkScales(float[] scales, String what) {
        for (int i = 0; i < scales.length; i++) {
            if (!Float.isFinite(scales[i])) {
                throw new IllegalArgumentException(what + ": scale " + i + " is " + scales[i]);
            }
        }
    }
}
