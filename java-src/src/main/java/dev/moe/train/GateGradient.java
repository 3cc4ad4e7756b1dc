package dev.moe.train;

import dev.moe.math.DetMath;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.ScoreFunction;

/**
 * The gate's backward: ∂L/∂z from G = ∂L/∂w, the gradient on the combine weights of the chosen
 * experts. Selection (groups, top-K) and the bias are constants, so unchosen experts get gradient only
 * through the score function's coupling (softmax), never through the selection.
 *
 * <p>With s the scores of the chosen experts and Σ their sum: normalised weights w_k = ρ·s_k/Σ give
 * ∂L/∂s_k = (ρ/Σ)·(G_k − Σ_m G_m·w_m/ρ); unnormalised w_k = ρ·s_k give ∂L/∂s_k = ρ·G_k. Then sigmoid:
 * ∂L/∂z_k = ∂L/∂s_k·s_k(1 − s_k); softmax: ∂L/∂z_j = s_j·(∂L/∂s_j − Σ_k ∂L/∂s_k·s_k) over all N.
 */
final class GateGradient {
    private GateGradient() {}

    /**
     * Writes ∂L/∂z for T tokens.
     *
     * @param config  the gate's configuration
     * @param logits  z float [T, N]
     * @param ids     chosen experts int [T, K] (−1 = none)
     * @param weights their combine weights float [T, K]
     * @param g       ∂L/∂w float [T, K]
     * @param tokens  T
     * @param dz      receives float [T, N]
     */
    static void logits(RoutingConfig config, float[] logits, int[] ids, float[] weights, float[] g, int tokens, float[] dz) {
        int n = config.numExperts();
        int k = config.topk();
        float rho = config.routeScale();
        boolean softmax = config.scoreFunction() == ScoreFunction.SOFTMAX;
        double[] s = new double[n];
        double[] ds = new double[k];
        for (int t = 0; t < tokens; t++) {
            int zo = t * n;
            int ko = t * k;
            if (softmax) {
                softmax(logits, zo, n, s);
            } else {
                for (int q = 0; q < k; q++) {
                    int id = ids[ko + q];
                    s[q] = id < 0 ? 0 : DetMath.sigmoid(logits[zo + id]);
                }
            }
            double sum = 0;
            double gw = 0;
            for (int q = 0; q < k; q++) {
                int id = ids[ko + q];
                if (id >= 0) {
                    sum += softmax ? s[id] : s[q];
                    gw += (double) g[ko + q] * weights[ko + q];
                }
            }
            for (int q = 0; q < k; q++) {
                if (ids[ko + q] < 0) {
                    ds[q] = 0;
                } else if (config.normalize()) {
                    ds[q] = sum > 0 ? (rho / sum) * (g[ko + q] - gw / rho) : 0;
                } else {
                    ds[q] = rho * g[ko + q];
                }
            }
            java.util.Arrays.fill(dz, zo, zo + n, 0f);
            if (softmax) {
                double dot = 0;
                for (int q = 0; q < k; q++) {
                    int id = ids[ko + q];
                    if (id >= 0) {
                        dot += ds[q] * s[id];
                    }
                }
                for (int j = 0; j < n; j++) {
                    dz[zo + j] = (float) (-s[j] * dot);
                }
                for (int q = 0; q < k; q++) {
                    int id = ids[ko + q];
                    if (id >= 0) {
                        dz[zo + id] += (float) (s[id] * ds[q]);
                    }
                }
            } else {
                for (int q = 0; q < k; q++) {
                    int id = ids[ko + q];
                    if (id >= 0) {
                        dz[zo + id] = (float) (ds[q] * s[q] * (1 - s[q]));
                    }
                }
            }
        }
    }

    private static void softmax(float[] z, int off, int n, double[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, z[off + j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            s[j] = Math.exp(z[off + j] - max);
            sum += s[j];
        }
        for (int j = 0; j < n; j++) {
            s[j] /= sum;
        }
    }
}
