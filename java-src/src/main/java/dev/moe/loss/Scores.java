package dev.moe.loss;

import dev.moe.routing.ScoreFunction;

/** Double-precision scores and their Jacobian-vector products (docs/specification.md §b, used by §f). */
final class Scores {
    private Scores() {}

    /** s = score(z) per token, double [T*N]. */
    static double[] of(double[] z, int tokens, int n, ScoreFunction fn) {
        double[] s = new double[tokens * n];
        for (int t = 0; t < tokens; t++) {
            int row = t * n;
            if (fn == ScoreFunction.SIGMOID) {
                for (int i = 0; i < n; i++) {
                    s[row + i] = sigmoid(z[row + i]);
                }
            } else {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    max = Math.max(max, z[row + i]);
                }
                double sum = 0.0;
                for (int i = 0; i < n; i++) {
                    s[row + i] = Math.exp(z[row + i] - max);
                    sum += s[row + i];
                }
                for (int i = 0; i < n; i++) {
                    s[row + i] /= sum;
                }
            }
        }
        return s;
    }

    /** σ(z), overflow-safe. */
    static double sigmoid(double z) {
        if (z >= 0.0) {
            return 1.0 / (1.0 + Math.exp(-z));
        }
        double e = Math.exp(z);
        return e / (1.0 + e);
    }

    /**
     * ∂L/∂z from ∂L/∂s, token by token, through the score function's Jacobian: sigmoid
     * g_j·s_j(1−s_j); softmax (J = diag(s) − s sᵀ) s_j·(g_j − Σ_i g_i s_i).
     */
    static double[] backprop(double[] s, double[] gradScores, int tokens, int n, ScoreFunction fn) {
        double[] g = new double[tokens * n];
        for (int t = 0; t < tokens; t++) {
            int row = t * n;
            if (fn == ScoreFunction.SIGMOID) {
                for (int j = 0; j < n; j++) {
                    double sj = s[row + j];
                    g[row + j] = gradScores[row + j] * sj * (1.0 - sj);
                }
            } else {
                double dot = 0.0;
                for (int i = 0; i < n; i++) {
                    dot += gradScores[row + i] * s[row + i];
                }
                for (int j = 0; j < n; j++) {
                    g[row + j] = s[row + j] * (gradScores[row + j] - dot);
                }
            }
        }
        return g;
    }
}
