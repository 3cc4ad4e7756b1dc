package dev.moe.train;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.Fp8Gemm;
import dev.moe.fp8.Fp8Quantizer;
import dev.moe.fp8.QuantizedTensor;

/**
 * Linear-layer products in FP8 as DeepSeek-V3 trains them (arXiv 2412.19437 §3.3): activations and
 * output gradients quantised to E4M3 in 1×128 tiles along the summed dimension, weights in 128×128
 * blocks, products accumulated in FP32 with every 128-wide chunk scaled by its two scales (the library's
 * block-scaled GEMM). The forward reads W [out, in]; the activation gradient reads Wᵀ [in, out], quantised
 * in its own 128×128 blocks (the same blocks transposed, so the same scales). Both weight copies are
 * quantised once per optimizer step and reused by every call until the parameters change.
 */
final class Fp8Projections implements Projections {
    private final Fp8Quantizer quantizer;
    private final Fp8Gemm gemm;
    private final Map<Integer, QuantizedTensor> weights = new HashMap<>();
    private final Map<Integer, QuantizedTensor> transposed = new HashMap<>();

    /** FP8 projections on a backend's quantiser and block-scaled GEMM (java or cpu). */
    static Fp8Projections create(dev.moe.routing.Backend backend) {
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

    @Override
    public void backwardInput(float[] dy, int dyOff, int m, int out, float[] p, int w, int in, float[] dx, int dxOff) {
        if (m == 0) {
            return;
        }
        QuantizedTensor a = quantizer.quantize(Arrays.copyOfRange(dy, dyOff, dyOff + m * out), m, out, Fp8Block.ROW_1X128,
                false);
        QuantizedTensor bt = transposed.computeIfAbsent(w, o -> {
            float[] t = new float[in * out];
            for (int r = 0; r < out; r++) {
                for (int c = 0; c < in; c++) {
                    t[c * out + r] = p[o + r * in + c];
                }
            }
            return quantizer.quantize(t, in, out, Fp8Block.TILE_128X128, false);
        });
        System.arraycopy(gemm.gemm(a, bt), 0, dx, dxOff, m * in);
    }

    @Override
    public void parametersChanged() {
        weights.clear();
        transposed.clear();
    }
}
