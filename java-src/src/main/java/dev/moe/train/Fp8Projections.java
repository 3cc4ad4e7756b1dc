package dev.moe.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;

/**
 * Linear-layer products in FP8 as DeepSeek-V3 trains them (arXiv 2412.19437 §3.3): activations and
 * output gradients quantised to E4M3 in 1×128 tiles along the summed dimension, weights in 128×128
 * blocks, products accumulated in FP32 with every 128-wide chunk scaled by its two scales (the library's
 * block-scaled GEMM). The forward reads W [out, in]; the activation gradient reads Wᵀ [in, out], quantised
 * in its own 128×128 blocks (the same blocks transposed, so the same scales). Routed experts run as one
 * grouped GEMM over all experts' rows. Weight copies are quantised once per optimizer step and reused by
 * every call until the parameters change.
 */
final class Fp8Projections implements Projections {
    private final Fp8Quantizer quantizer;
    private final Fp8Gemm gemm;
    private final Map<Integer, QuantizedTensor> weights = new HashMap<>();
    private final Map<Integer, QuantizedTensor> transposed = new HashMap<>();
    private final Map<Integer, ExpertWeights> grouped = new HashMap<>();
    private final Map<Integer, ExpertWeights> groupedTransposed = new HashMap<>();

    /** FP8 projections on a backend's quantiser and block-scaled GEMM (java or cpu). */
    static Fp8Projections create(dev.moe.backend.Backend backend) {
        return new Fp8Projections(Fp8Quantizer.create(backend), Fp8Gemm.create(backend));
    }

    Fp8Projections(Fp8Quantizer quantizer, Fp8Gemm gemm) {
        this.quantizer = quantizer;
        this.gemm = gemm;
    }

    @Override
    public void forward(float[] x, int xOff, int m, int in, float[] p, int w, int out, float[] y, int yOff) {
        if (m == 0) {
            return;
        }
        QuantizedTensor a = quantizer.quantize(Arrays.copyOfRange(x, xOff, xOff + m * in), m, in, Fp8Block.ROW_1X128, false);
        QuantizedTensor b = weights.computeIfAbsent(w, o -> quantizer.quantize(Arrays.copyOfRange(p, o, o + out * in), out, in,
                Fp8Block.TILE_128X128, false));
        System.arraycopy(gemm.gemm(a, b), 0, y, yOff, m * out);
    }

    /** The routed experts' forward on the library's grouped GEMM: one call over all experts' rows. */
    @Override
    public void forwardGrouped(float[] x, int[] offsets, int in, float[] p, int w, int out, float[] y) {
        grouped(x, offsets, in, out, y, grouped, w, (o, e) -> {
            int from = o + e * out * in;
            return quantizer.quantize(Arrays.copyOfRange(p, from, from + out * in), out, in, Fp8Block.TILE_128X128, false);
        });
    }

    /** The routed experts' activation gradient on the grouped GEMM, with each expert's Wᵀ. */
    @Override
    public void backwardInputGrouped(float[] dy, int[] offsets, int out, float[] p, int w, int in, float[] dx) {
        grouped(dy, offsets, out, in, dx, groupedTransposed, w,
                (o, e) -> quantizer.quantize(transpose(p, o + e * out * in, out, in), in, out, Fp8Block.TILE_128X128, false));
    }

    /** Expert e's weight operand [width, k] in 128×128 blocks, for the stack at parameter offset o. */
    private interface ExpertOperand {
        QuantizedTensor of(int o, int e);
    }

    /**
     * dst rows of group e = src rows of group e (width k, quantised 1×128) times operand eᵀ (width n), on
     * one grouped GEMM; the stacked operands are made once per parameter version and kept in cache.
     */
    private void grouped(float[] src, int[] offsets, int k, int n, float[] dst, Map<Integer, ExpertWeights> cache, int w,
                         ExpertOperand operand) {
        int rows = offsets[offsets.length - 1];
        if (rows == 0) {
            return;
        }
        int experts = offsets.length - 1;
        QuantizedTensor a = quantizer.quantize(Arrays.copyOf(src, rows * k), rows, k, Fp8Block.ROW_1X128, false);
        ExpertWeights ew = cache.computeIfAbsent(w, o -> {
            List<QuantizedTensor> list = new ArrayList<>(experts);
            for (int e = 0; e < experts; e++) {
                list.add(operand.of(o, e));
            }
            return ExpertWeights.of(list);
        });
        System.arraycopy(gemm.groupedContiguous(a, offsets, ew), 0, dst, 0, rows * n);
    }

    /** W [rows, cols] at offset o, transposed into a new [cols, rows] array. */
    private static float[] transpose(float[] p, int o, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = p[o + r * cols + c];
            }
        }
        return t;
    }

    @Override
    public void backwardInput(float[] dy, int dyOff, int m, int out, float[] p, int w, int in, float[] dx, int dxOff) {
        if (m == 0) {
            return;
        }
        QuantizedTensor a = quantizer.quantize(Arrays.copyOfRange(dy, dyOff, dyOff + m * out), m, out, Fp8Block.ROW_1X128,
                false);
        QuantizedTensor bt = transposed.computeIfAbsent(w,
                o -> quantizer.quantize(transpose(p, o, out, in), in, out, Fp8Block.TILE_128X128, false));
        System.arraycopy(gemm.gemm(a, bt), 0, dx, dxOff, m * in);
    }

    @Override
    public void parametersChanged() {
        weights.clear();
        transposed.clear();
        grouped.clear();
        groupedTransposed.clear();
    }
}
