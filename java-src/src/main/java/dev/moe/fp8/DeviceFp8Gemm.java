package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.CudaStream;
import dev.moe.cuda.DeviceBuffer;
import dev.moe.nativecall.Fp8GemmArgs;
import dev.moe.nativecall.NativeStatus;

/**
 * FP8 block-scaled GEMMs on operands that already live on a CUDA device, enqueued on a stream
 * ({@code moe_fp8_gemm_cuda}): C = A·Bᵀ with A's codes [M, K] and 1×128 scales [M, ceil(K/128)], B's codes
 * [N, K] (per group: [E, N, K]) and 128×128 scales [ceil(N/128), ceil(K/128)] (per group), C float [M, N].
 * Results are ready once the stream is synchronised. Buffer sizes are checked here; the scales are not
 * checked for finiteness (device memory: the caller checks them, as {@link Fp8Gemm} does).
 */
public final class DeviceFp8Gemm {
    private DeviceFp8Gemm() {}

    /**
     * Enqueues one dense GEMM.
     *
     * @param kernel  the kernel
     * @param stream  the stream (its device runs the GEMM)
     * @param m       rows of A and C
     * @param n       rows of B, columns of C
     * @param k       the inner dimension
     * @param a       A's codes
     * @param aScales A's scales
     * @param b       B's codes
     * @param bScales B's scales
     * @param c       C, overwritten
     * @throws IllegalArgumentException if a shape is negative or a buffer is smaller than its shape
     * @throws dev.moe.nativelib.CudaException if the device cannot run the kernel ({@link dev.moe.nativelib.CudaException#unsupportedGpu()})
     *         or the launch fails
     */
    public static void dense(CudaGemmKernel kernel, CudaStream stream, int m, int n, int k, DeviceBuffer a, DeviceBuffer aScales,
                             DeviceBuffer b, DeviceBuffer bScales, DeviceBuffer c) {
        try (Arena arena = Arena.ofConfined()) {
            enqueue(kernel, stream, Fp8GemmArgs.allocate(arena, kernel.nativeCode()).dense(m, n, k), 1, m, n, k, a, aScales, b, bScales,
                    c);
        }
    }

    /**
     * Enqueues one grouped GEMM over contiguous rows: group e multiplies rows {@code offsets[e] .. offsets[e+1]-1}
     * of A by its B.
     *
     * @param kernel  the kernel
     * @param stream  the stream
     * @param offsets int [E+1], offsets[0] = 0, non-decreasing (checked by the library)
     * @param n       output columns per group
     * @param k       the inner dimension
     * @param a       A's codes [offsets[E], K]
     * @param aScales A's scales
     * @param b       the groups' codes [E, N, K]
     * @param bScales the groups' scales
     * @param c       C [offsets[E], N], overwritten
     * @throws IllegalArgumentException if a shape is negative, the offsets are invalid or a buffer is
     *         smaller than its shape
     * @throws dev.moe.nativelib.CudaException if the device cannot run the kernel or the launch fails
     */
    public static void groupedContiguous(CudaGemmKernel kernel, CudaStream stream, int[] offsets, int n, int k, DeviceBuffer a,
                                         DeviceBuffer aScales, DeviceBuffer b, DeviceBuffer bScales, DeviceBuffer c) {
        Objects.requireNonNull(offsets, "offsets");
        int groups = offsets.length - 1;
        if (groups < 0) {
            throw new IllegalArgumentException("contiguous layout needs E+1 >= 1 offsets");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment off = arena.allocate(ValueLayout.JAVA_LONG, offsets.length);
            for (int i = 0; i < offsets.length; i++) {
                off.setAtIndex(ValueLayout.JAVA_LONG, i, offsets[i]);
            }
            enqueue(kernel, stream, Fp8GemmArgs.allocate(arena, kernel.nativeCode()).contiguous(off, groups, n, k), groups, offsets[groups],
                    n, k, a, aScales, b, bScales, c);
        }
    }

    /**
     * Enqueues one grouped GEMM over masked row slots: group e uses the first {@code counts[e]} of its
     * {@code maxM} rows (counts read by the kernel, so the call can be captured in a CUDA graph; rows past a
     * count are set to 0).
     *
     * @param kernel  the kernel
     * @param stream  the stream
     * @param groups  E
     * @param maxM    row slots per group
     * @param counts  int32 [E] on the device, each in 0..maxM (others are clamped)
     * @param n       output columns per group
     * @param k       the inner dimension
     * @param a       A's codes [E·maxM, K]
     * @param aScales A's scales
     * @param b       the groups' codes [E, N, K]
     * @param bScales the groups' scales
     * @param c       C [E·maxM, N], overwritten
     * @throws IllegalArgumentException if a shape is negative or a buffer is smaller than its shape
     * @throws dev.moe.nativelib.CudaException if the device cannot run the kernel or the launch fails
     */
    public static void groupedMasked(CudaGemmKernel kernel, CudaStream stream, int groups, int maxM, DeviceBuffer counts, int n, int k,
                                     DeviceBuffer a, DeviceBuffer aScales, DeviceBuffer b, DeviceBuffer bScales, DeviceBuffer c) {
        requireBytes(counts, 4L * Math.max(0, groups), "counts");
        try (Arena arena = Arena.ofConfined()) {
            enqueue(kernel, stream, Fp8GemmArgs.allocate(arena, kernel.nativeCode()).masked(groups, maxM, counts.pointer(), n, k), groups,
                    (long) groups * maxM, n, k, a, aScales, b, bScales, c);
        }
    }

    private static void enqueue(CudaGemmKernel kernel, CudaStream stream, Fp8GemmArgs args, long groups, long m, int n, int k,
                                DeviceBuffer a, DeviceBuffer aScales, DeviceBuffer b, DeviceBuffer bScales, DeviceBuffer c) {
        if (groups < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative GEMM shape: groups=" + groups + " m=" + m + " n=" + n + " k=" + k);
        }
        long kc = (k + 127) / 128;
        long aCount = m * k;
        long asCount = m * kc;
        long bCount = groups * n * k;
        long bsCount = groups * ((n + 127) / 128) * kc;
        long cCount = m * n;
        requireBytes(a, aCount, "A codes");
        requireBytes(aScales, 4 * asCount, "A scales");
        requireBytes(b, bCount, "B codes");
        requireBytes(bScales, 4 * bsCount, "B scales");
        requireBytes(c, 4 * cCount, "C");
        args.operands(a.pointer(), aCount, aScales.pointer(), asCount, b.pointer(), bCount, bScales.pointer(), bsCount, c.pointer(), cCount)
                .on(stream.device(), stream.handle());
        NativeStatus.check(moe_h.moe_fp8_gemm_cuda(args.segment()), "FP8 GEMM on CUDA (" + kernel.label() + ")");
    }

    private static void requireBytes(DeviceBuffer buffer, long bytes, String what) {
        Objects.requireNonNull(buffer, what);
        if (buffer.bytes() < bytes) {
            throw new IllegalArgumentException(what + ": device buffer of " + buffer.bytes() + " bytes, the shape needs " + bytes);
        }
    }
}
