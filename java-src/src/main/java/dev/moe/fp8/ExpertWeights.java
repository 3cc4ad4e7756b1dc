package dev.moe.fp8;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;

/**
 * The FP8 weights of E experts for one grouped GEMM: E matrices [N, K] in 128×128 blocks, stored
 * back to back (codes [E, N, K], scales [E, ceil(N/128), ceil(K/128)]) as the grouped kernels read them.
 *
 * <p>Weights are read many times and never written, so the work that depends only on them is done
 * once per instance, not once per GEMM: the content check (no E4M3 NaN code, every scale finite) on
 * first use by any backend, and on the cpu backend one native copy of the codes and scales, made on
 * first use and kept (freed with the instance). The arrays are kept, not copied: they must not change
 * after the instance is first used.
 */
public final class ExpertWeights {
    private final int experts;
    private final int rows;
    private final int cols;
    private final byte[] codes;
    private final float[] scales;
    /** The checked contents' verdict: null before the first check, else "" (valid) or the error message. */
    private volatile String contentProblem;
    private volatile Native nativeCopy;

    /**
     * Checks that the arrays have the sizes the shape needs (the arrays are kept, not copied).
     *
     * @param experts E
     * @param rows    N, output channels per expert
     * @param cols    K, input channels
     * @param codes   E4M3 codes, E·N·K
     * @param scales  block scales, E·ceil(N/128)·ceil(K/128)
     * @throws IllegalArgumentException if a dimension is negative or an array has the wrong length
     */
    public ExpertWeights(int experts, int rows, int cols, byte[] codes, float[] scales) {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(scales, "scales");
        if (experts < 0 || rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative expert weight shape [" + experts + ", " + rows + ", " + cols + "]");
        }
        if (codes.length != (long) experts * rows * cols) {
            throw new IllegalArgumentException("expert weights: " + codes.length + " codes for [" + experts + ", " + rows + ", "
                    + cols + "]");
        }
        long per = Fp8Block.TILE_128X128.scaleCount(rows, cols);
        if (scales.length != experts * per) {
            throw new IllegalArgumentException("expert weights: " + scales.length + " scales, need " + experts + " x " + per);
        }
        this.experts = experts;
        this.rows = rows;
        this.cols = cols;
        this.codes = codes;
        this.scales = scales;
    }

    /**
     * Stacks per-expert weights, each [N, K] quantised 128×128, all of one shape (copying them).
     *
     * @param perExpert the weights of expert 0, 1, ... E−1
     * @return the stacked weights
     * @throws IllegalArgumentException if the list is empty, or an expert's shape or block differs from
     *         expert 0's or is not 128×128
     */
    public static ExpertWeights of(List<QuantizedTensor> perExpert) {
        if (perExpert.isEmpty()) {
            throw new IllegalArgumentException("at least one expert is needed");
        }
        QuantizedTensor first = perExpert.getFirst();
        int n = first.rows();
        int k = first.cols();
        int e = perExpert.size();
        byte[] codes = new byte[Math.multiplyExact(Math.multiplyExact(e, n), k)];
        int per = first.scales().length;
        float[] scales = new float[e * per];
        for (int i = 0; i < e; i++) {
            QuantizedTensor w = perExpert.get(i);
            if (w.block() != Fp8Block.TILE_128X128 || w.rows() != n || w.cols() != k) {
                throw new IllegalArgumentException("expert " + i + ": weights must be [" + n + ", " + k + "] in 128x128 blocks like "
                        + "expert 0, got [" + w.rows() + ", " + w.cols() + "] in " + w.block().cliName());
            }
            System.arraycopy(w.codes(), 0, codes, i * n * k, n * k);
            System.arraycopy(w.scales(), 0, scales, i * per, per);
        }
        return new ExpertWeights(e, n, k, codes, scales);
    }

    /**
     * One matrix [N, K] in 128×128 blocks as a single expert (its arrays kept, not copied).
     *
     * @param w the weights
     * @return E = 1 expert holding {@code w}
     * @throws IllegalArgumentException if {@code w} is not quantised in 128×128 blocks
     */
    public static ExpertWeights single(QuantizedTensor w) {
        if (w.block() != Fp8Block.TILE_128X128) {
            throw new IllegalArgumentException("expert weights must be quantised in 128x128 blocks, got " + w.block().cliName());
        }
        return new ExpertWeights(1, w.rows(), w.cols(), w.codes(), w.scales());
    }

    /** {@return E, the number of experts} */
    public int experts() {
        return experts;
    }

    /** {@return N, output channels per expert} */
    public int rows() {
        return rows;
    }

    /** {@return K, input channels} */
    public int cols() {
        return cols;
    }

    /** {@return the E4M3 codes [E, N, K] (the array itself, not a copy)} */
    public byte[] codes() {
        return codes;
    }

    /** {@return the block scales [E, ceil(N/128), ceil(K/128)] (the array itself, not a copy)} */
    public float[] scales() {
        return scales;
    }

    @Override
    public String toString() {
        return "ExpertWeights[" + experts + " x " + rows + "x" + cols + "]";
    }

    /** Scales per expert. */
    int scalesPerExpert() {
        return (int) Fp8Block.TILE_128X128.scaleCount(rows, cols);
    }

    /**
     * Checks the contents once per instance (later calls repeat the first verdict without a scan).
     *
     * @throws IllegalArgumentException if a code is the E4M3 NaN code or a scale is not finite
     */
    void requireValidContents() {
        String problem = contentProblem;
        if (problem == null) {
            try {
                Fp8Gemm.checkCodes(codes, cols, "expert weights");
                Fp8Gemm.checkScales(scales, "expert weights");
                problem = "";
            } catch (IllegalArgumentException e) {
                problem = e.getMessage();
            }
            contentProblem = problem;
        }
        if (!problem.isEmpty()) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * The codes and scales in native memory for the cpu kernels, copied on the first call and kept
     * until this instance is garbage-collected.
     */
    Native nativeCopy() {
        Native copy = nativeCopy;
        if (copy == null) {
            synchronized (this) {
                copy = nativeCopy;
                if (copy == null) {
                    Arena arena = Arena.ofAuto();
                    MemorySegment c = arena.allocate(Math.max(1, codes.length), 64).asSlice(0, codes.length);
                    MemorySegment.copy(codes, 0, c, ValueLayout.JAVA_BYTE, 0, codes.length);
                    MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, scales.length)).asSlice(0, 4L * scales.length);
                    MemorySegment.copy(scales, 0, s, ValueLayout.JAVA_FLOAT, 0, scales.length);
                    copy = new Native(c, s);
                    nativeCopy = copy;
                }
            }
        }
        return copy;
    }

    /** Native codes [E, N, K] and scales [E, ceil(N/128), ceil(K/128)]: read-only by convention. */
    record Native(MemorySegment codes, MemorySegment scales) {}
}
