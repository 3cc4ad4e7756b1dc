package dev.moe.fp8;

import java.util.List;
import java.util.Objects;

/**
 * The FP8 weights of E experts for one grouped GEMM: E matrices [N, K] in 128×128 blocks, stored
 * back to back (codes [E, N, K], scales [E, ceil(N/128), ceil(K/128)]) as the grouped kernels read them.
 *
 * @param experts E
 * @param rows    N, output channels per expert
 * @param cols    K, input channels
 * @param codes   E4M3 codes, E·N·K
 * @param scales  block scales, E·ceil(N/128)·ceil(K/128)
 */
public record ExpertWeights(int experts, int rows, int cols, byte[] codes, float[] scales) {

    /**
     * Checks that the arrays have the sizes the shape needs (the arrays are kept, not copied).
     *
     * @throws IllegalArgumentException if a dimension is negative or an array has the wrong length
     */
    public ExpertWeights {
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

    /** Scales per expert. */
    int scalesPerExpert() {
        return (int) Fp8Block.TILE_128X128.scaleCount(rows, cols);
    }
}
