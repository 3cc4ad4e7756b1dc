package dev.moe.layer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.math.Gaussian;
import dev.moe.routing.RoutingConfig;

/**
 * The weights of one DeepSeek-style MoE layer (docs/specification.md §c.3, §h): an FP32 router, N routed SwiGLU experts
 * and optionally the shared expert(s), all expert matrices FP8 in 128×128 blocks.
 *
 * <p>Each expert's w1 (gate_proj) and w3 (up_proj), both [I, H], are stacked into one matrix w13
 * [2I, H] (rows 0..I−1 from w1) so that one GEMM computes both; this needs I to be a multiple of 128,
 * so that the two matrices' 128-row scale blocks do not share a block. w2 (down_proj) is [H, I].
 *
 * @param config       routing configuration (N experts, top-K, ...)
 * @param hidden       H, the model dimension
 * @param intermediate I, each routed expert's width
 * @param gate         router weight float [N, H]: logits = x · gateᵀ
 * @param gateBias     selection bias float [N] (DeepSeek-V3's e_score_correction_bias), or null
 * @param w13          routed experts' stacked w1/w3: E = N, rows 2I, cols H
 * @param w2           routed experts' w2: E = N, rows H, cols I
 * @param sharedW13    shared expert(s) stacked w1/w3 [2·Is, H], or null for none
 * @param sharedW2     shared expert(s) w2 [H, Is], or null for none
 */
public record MoeLayerWeights(RoutingConfig config, int hidden, int intermediate, float[] gate, float[] gateBias,
                              ExpertWeights w13, ExpertWeights w2, QuantizedTensor sharedW13, QuantizedTensor sharedW2) {

    /**
     * Checks the shapes against each other and the configuration (the arrays are kept, not copied).
     *
     * @throws IllegalArgumentException if H or I is below 1, I is not a multiple of 128, an array or
     *         expert matrix has the wrong shape, or only one of the shared expert's matrices is given
     */
    public MoeLayerWeights {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(gate, "gate");
        Objects.requireNonNull(w13, "w13");
        Objects.requireNonNull(w2, "w2");
        int n = config.numExperts();
        if (hidden < 1 || intermediate < 1) {
            throw new IllegalArgumentException("hidden and intermediate sizes must be >= 1, got " + hidden + " and " + intermediate);
        }
        if (intermediate % Fp8Block.TILE_COLS != 0) {
            throw new IllegalArgumentException("expert width I = " + intermediate + " must be a multiple of 128 to stack w1 and w3 "
                    + "into one 128x128-block matrix");
        }
        if (gate.length != (long) n * hidden) {
            throw new IllegalArgumentException("router weight: " + gate.length + " values, expected N x H = " + n + " x " + hidden);
        }
        if (gateBias != null && gateBias.length != n) {
            throw new IllegalArgumentException("router bias: " + gateBias.length + " values, expected N = " + n);
        }
        requireExperts("w13", w13, n, 2 * intermediate, hidden);
        requireExperts("w2", w2, n, hidden, intermediate);
        if ((sharedW13 == null) != (sharedW2 == null)) {
            throw new IllegalArgumentException("shared expert: give both w13 and w2, or neither");
        }
        if (sharedW13 != null) {
            int is = sharedW2.cols();
            if (sharedW13.block() != Fp8Block.TILE_128X128 || sharedW2.block() != Fp8Block.TILE_128X128) {
                throw new IllegalArgumentException("shared expert weights must be quantised in 128x128 blocks");
            }
            if (is % Fp8Block.TILE_COLS != 0 || sharedW13.rows() != 2 * is || sharedW13.cols() != hidden || sharedW2.rows() != hidden) {
                throw new IllegalArgumentException("shared expert: w13 must be [2*Is, H] and w2 [H, Is] with Is a multiple of 128; got w13 ["
                        + sharedW13.rows() + ", " + sharedW13.cols() + "], w2 [" + sharedW2.rows() + ", " + sharedW2.cols() + "], H = "
                        + hidden);
            }
        }
    }

    private static void requireExperts(String what, ExpertWeights w, int n, int rows, int cols) {
        if (w.experts() != n || w.rows() != rows || w.cols() != cols) {
            throw new IllegalArgumentException(what + ": expected [" + n + ", " + rows + ", " + cols + "], got [" + w.experts() + ", "
                    + w.rows() + ", " + w.cols() + "]");
        }
    }

    /** {@return whether the layer has a shared expert} */
    public boolean hasSharedExpert() {
        return sharedW13 != null;
    }

    /**
     * Random weights of the given shape, the same for a seed on every machine (benchmarks, distributed
     * runs where every rank builds the same layer): router N(0, 0.1²), bias N(0, 0.02²), w13 N(0, 0.06²),
     * w2 N(0, 0.08²), quantised to FP8 in 128×128 blocks; one shared expert of width I if asked.
     * Experts are generated in parallel.
     *
     * @param config       the routing configuration (N experts)
     * @param hidden       H, &ge; 1
     * @param intermediate I, a positive multiple of 128
     * @param sharedExpert whether to add a shared expert of width I
     * @param seed         the random seed
     * @return the weights
     * @throws IllegalArgumentException if H or I is out of range
     */
    public static MoeLayerWeights synthetic(RoutingConfig config, int hidden, int intermediate, boolean sharedExpert, long seed) {
        int n = config.numExperts();
        int extra = sharedExpert ? 1 : 0;
        // Expert e draws from its own stream, so they can be generated in parallel.
        List<QuantizedTensor[]> experts = IntStream.range(0, n + extra).parallel().mapToObj(e -> {
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e + 1);
            return new QuantizedTensor[] {
                BlockQuantizer.quantize(gaussian(rnd, 2 * intermediate * hidden, 0.06), 2 * intermediate, hidden,
                        Fp8Block.TILE_128X128, false),
                BlockQuantizer.quantize(gaussian(rnd, hidden * intermediate, 0.08), hidden, intermediate, Fp8Block.TILE_128X128, false)};
        }).toList();
        List<QuantizedTensor> w13 = new ArrayList<>();
        List<QuantizedTensor> w2 = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            w13.add(experts.get(e)[0]);
            w2.add(experts.get(e)[1]);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        return new MoeLayerWeights(config, hidden, intermediate, gaussian(rnd, n * hidden, 0.1), gaussian(rnd, n, 0.02),
                ExpertWeights.of(w13), ExpertWeights.of(w2), sharedExpert ? experts.get(n)[0] : null,
                sharedExpert ? experts.get(n)[1] : null);
    }

    private static float[] gaussian(SplittableRandom rnd, int count, double std) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (Gaussian.next(rnd) * std);
        }
        return x;
    }
}
