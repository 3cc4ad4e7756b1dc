package dev.moe.train;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.moe.math.DetMath;

/** The reference {@link Elementwise}: plain Java loops, rows in parallel on the common fork-join pool. */
final class JavaElementwise implements Elementwise {
    static final JavaElementwise INSTANCE = new JavaElementwise();

    private JavaElementwise() {}

    @Override
    public void swigluForward(float[] h13, float[] act, int rows, int width) {
        SwiGlu.forward(h13, act, rows, width);
    }

    @Override
    public void swigluBackward(float[] dact, float[] h13, float[] dh13, int rows, int width) {
        SwiGlu.backward(dact, h13, dh13, rows, width);
    }

    @Override
    public void softmaxCausal(float[] x, int count, int seq, float scale) {
        IntStream.range(0, count).parallel().forEach(m -> {
            for (int i = 0; i < seq; i++) {
                softmaxRow(x, (m * seq + i) * seq, i + 1, seq, scale);
            }
        });
    }

    @Override
    public void softmaxCausalBackward(float[] probs, float[] dp, int count, int seq, float scale) {
        IntStream.range(0, count).parallel().forEach(m -> {
            for (int i = 0; i < seq; i++) {
                softmaxBackwardRow(probs, dp, (m * seq + i) * seq, i + 1, seq, scale);
            }
        });
    }

    /** One row: the first n of its seq columns kept. */
    private static void softmaxRow(float[] x, int row, int n, int seq, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            float v = x[row + j];
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("attention score " + v + " is not finite: the model has diverged");
            }
            max = v > max ? v : max;
        }
        for (int j = 0; j < n; j++) {
            x[row + j] = DetMath.expNonPositive((x[row + j] - max) * scale);
        }
        float inv = 1f / DetMath.laneSum8(x, row, row + n);
        for (int j = 0; j < n; j++) {
            x[row + j] *= inv;
        }
        Arrays.fill(x, row + n, row + seq, 0f);
    }

    private static void softmaxBackwardRow(float[] p, float[] dp, int row, int n, int seq, float scale) {
        float[] lanes = new float[8];
        for (int j = 0; j < n; j++) {
            lanes[j & 7] += p[row + j] * dp[row + j];
        }
        float d = DetMath.laneSum8(lanes, 0, 8);
        for (int j = 0; j < n; j++) {
            dp[row + j] = p[row + j] * (dp[row + j] - d) * scale;
        }
        Arrays.fill(dp, row + n, row + seq, 0f);
    }

    @Override
    public String toString() {
        return "java";
    }
}
