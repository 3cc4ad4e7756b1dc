package dev.moe.train;

/**
 * Rotary position embedding on interleaved pairs: for position s and pair i of a head of width h,
 * (x₂ᵢ, x₂ᵢ₊₁) turns by the angle s·θᵢ with θᵢ = 10000^(−2i/h). The tables are computed once with
 * {@link StrictMath}, so every machine rotates by the same bits. The backward is the inverse rotation.
 */
final class Rope {
    private static final double BASE = 10000.0;
    private final float[] cos;
    private final float[] sin;
    private final int half;

    /**
     * Tables for positions 0..seqLen−1 and heads of width headDim.
     *
     * @param seqLen  positions
     * @param headDim head width (even)
     */
    Rope(int seqLen, int headDim) {
        half = headDim / 2;
        cos = new float[seqLen * half];
        sin = new float[seqLen * half];
        for (int s = 0; s < seqLen; s++) {
            for (int i = 0; i < half; i++) {
                double angle = s * StrictMath.pow(BASE, -2.0 * i / headDim);
                cos[s * half + i] = (float) StrictMath.cos(angle);
                sin[s * half + i] = (float) StrictMath.sin(angle);
            }
        }
    }

    /**
     * Rotates one head vector in place.
     *
     * @param x       the array
     * @param off     the vector's first element
     * @param pos     its position
     * @param inverse rotate by −angle (the backward)
     */
    void rotate(float[] x, int off, int pos, boolean inverse) {
        int t = pos * half;
        for (int i = 0; i < half; i++) {
            float c = cos[t + i];
            float s = inverse ? -sin[t + i] : sin[t + i];
            float a = x[off + 2 * i];
            float b = x[off + 2 * i + 1];
            x[off + 2 * i] = a * c - b * s;
            x[off + 2 * i + 1] = a * s + b * c;
        }
    }
}
