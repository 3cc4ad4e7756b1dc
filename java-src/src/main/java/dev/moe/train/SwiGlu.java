package dev.moe.train;

import dev.moe.math.DetMath;

/**
 * The SwiGLU activation of an expert: rows of h13 = [h1 (width) | h3 (width)] give
 * a = silu(h1) ⊙ h3 with silu(v) = v·σ(v), σ the library's deterministic sigmoid (as in the inference
 * layer, so every backend rounds alike).
 */
final class SwiGlu {
    private SwiGlu() {}

    /**
     * a = silu(h1) ⊙ h3.
     *
     * @param h13   float [rows, 2·width]
     * @param act   receives float [rows, width]
     * @param rows  rows
     * @param width expert width
     */
    static void forward(float[] h13, float[] act, int rows, int width) {
        Rows.parallel(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                int src = r * 2 * width;
                int dst = r * width;
                for (int c = 0; c < width; c++) {
                    float a = h13[src + c];
                    act[dst + c] = (a * DetMath.sigmoid(a)) * h13[src + width + c];
                }
            }
        });
    }

    /**
     * dh13 from dact: dh1 = dact·h3·σ(h1)·(1 + h1·(1 − σ(h1))), dh3 = dact·silu(h1).
     *
     * @param dact  ∂L/∂a float [rows, width]
     * @param h13   the forward's input
     * @param dh13  receives float [rows, 2·width]
     * @param rows  rows
     * @param width expert width
     */
    static void backward(float[] dact, float[] h13, float[] dh13, int rows, int width) {
        Rows.parallel(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                int src = r * 2 * width;
                int g = r * width;
                for (int c = 0; c < width; c++) {
                    float a = h13[src + c];
                    float b = h13[src + width + c];
                    float sg = DetMath.sigmoid(a);
                    float d = dact[g + c];
                    dh13[src + c] = d * b * sg * (1f + a * (1f - sg));
                    dh13[src + width + c] = d * a * sg;
                }
            }
        });
    }
}
