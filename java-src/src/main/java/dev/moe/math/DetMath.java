package dev.moe.math;

/**
 * Deterministic FP32 elementary functions, operation for operation the same as the native kernels
 * ({@code native/src/cpu/gate_kernel.inc}) so that every backend computes bit-identical scores.
 *
 * <p>exp uses Cephes' expf polynomial with explicit fused multiply-adds and a two-step 2^n scaling
 * (so a subnormal result is rounded once); its accuracy is about 1 ulp, and, unlike {@link Math#exp},
 * its result does not depend on the JIT, the CPU or the C library.
 */
public final class DetMath {
    private DetMath() {}

    /** Inputs below this give 0 (exp(-104) is under half the smallest subnormal float). */
    static final float EXP_LOWEST = -104.0f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /**
     * e^x for x &le; 0 (−∞ gives 0). Not defined for positive x: the gate never needs it.
     *
     * @param x the exponent, &le; 0
     * @return e^x, within about 1 ulp, the same on every platform
     */
    public static float expNonPositive(float x) {
        x = x < EXP_LOWEST ? EXP_LOWEST : x;
        float n = (float) Math.rint(x * LOG2E);
        float r = Math.fma(-n, LN2_HI, x);
        r = Math.fma(-n, LN2_LO, r);
        float p = P0;
        p = Math.fma(p, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1.0f;
        int ni = (int) n;
        int n1 = ni >> 1;
        return (y * pow2(n1)) * pow2(ni - n1);
    }

    /**
     * Logistic sigmoid, overflow-safe: 1/(1+e^−z) for z &ge; 0, e^z/(1+e^z) for z &lt; 0.
     *
     * @param z the logit
     * @return σ(z) in [0, 1]
     */
    public static float sigmoid(float z) {
        float e = expNonPositive(-Math.abs(z));
        float d = 1.0f + e;
        return (z >= 0.0f ? 1.0f : e) / d;
    }

    /**
     * Sum in eight interleaved lanes (lane = i mod 8, increasing i) combined pairwise; the order the
     * vectorised kernels use, so sums are identical across backends.
     *
     * @param v    the values
     * @param from first index, inclusive
     * @param to   last index, exclusive
     * @return the sum of {@code v[from..to)}
     */
    public static float laneSum8(float[] v, int from, int to) {
        float[] lanes = new float[8];
        for (int i = from; i < to; i++) {
            lanes[(i - from) & 7] += v[i];
        }
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }

    private static float pow2(int n) {
        return Float.intBitsToFloat((n + 127) << 23);
    }
}
