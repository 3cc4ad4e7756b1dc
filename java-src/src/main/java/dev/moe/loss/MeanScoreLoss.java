package dev.moe.loss;

import java.util.Objects;

import dev.moe.routing.ScoreFunction;

/**
 * The shared form of every balance loss (docs/specification.md §f): L = Σ_i c_i P_i, with per-expert coefficients c
 * built from the selection (not differentiated) and P_i the mean over the T tokens of the scope of
 * expert i's score, or, when {@code normalised}, of s'_{i,t} = s_{i,t} / Σ_j s_{j,t} (§f.2).
 *
 * <p>Gradient: ∂L/∂s_{j,t} = c_j / T, or (c_j − Σ_i c_i s'_{i,t}) / (T·S_t) when normalised
 * (S_t = Σ_j s_{j,t}); then through the score function's Jacobian into z.
 */
abstract class MeanScoreLoss implements AuxLoss {
    /** The coefficient α. */
    protected final double alpha;
    /** How logits become scores. */
    protected final ScoreFunction scoreFunction;
    private final boolean normalised;

    MeanScoreLoss(double alpha, ScoreFunction scoreFunction, boolean normalised) {
        if (!Double.isFinite(alpha) || alpha < 0.0) {
            throw new IllegalArgumentException("coefficient must be finite and >= 0, got " + alpha);
        }
        this.alpha = alpha;
        this.scoreFunction = Objects.requireNonNull(scoreFunction, "scoreFunction");
        this.normalised = normalised;
    }

    @Override
    public final double coefficient() {
        return alpha;
    }

    /** {@return the score function the logits go through} */
    public final ScoreFunction scoreFunction() {
        return scoreFunction;
    }

    /** c, double [N]: L = Σ_i c_i P_i. Only called with T &ge; 1. */
    abstract double[] coefficients(ExpertSelection selection);

    /** α·f, in place. */
    static double[] scaled(double alpha, double[] f) {
        for (int i = 0; i < f.length; i++) {
            f[i] *= alpha;
        }
        return f;
    }

    /** Per-expert coefficients α·f_d(j) from per-device fractions, devices being equal contiguous groups. */
    static double[] perExpert(double alpha, double[] deviceFractions, int numExperts) {
        int size = numExperts / deviceFractions.length;
        double[] c = new double[numExperts];
        for (int j = 0; j < numExperts; j++) {
            c[j] = alpha * deviceFractions[j / size];
        }
        return c;
    }

    @Override
    public final AuxLossResult compute(double[] logits, int tokens, ExpertSelection selection) {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(selection, "selection");
        if (selection.tokens() != tokens) {
            throw new IllegalArgumentException("selection covers " + selection.tokens() + " tokens, expected T=" + tokens);
        }
        int n = selection.numExperts();
        if ((long) tokens * n != logits.length) {
            throw new IllegalArgumentException("logits must hold T*N=" + ((long) tokens * n) + " values, got " + logits.length);
        }
        for (int k = 0; k < logits.length; k++) {
            if (!Double.isFinite(logits[k])) {
                throw new IllegalArgumentException("logit [" + (k / n) + ", " + (k % n) + "] is " + logits[k]);
            }
        }
        if (tokens == 0) {
            return AuxLossResult.of(0.0, new double[0]);
        }
        double[] c = coefficients(selection);
        double[] s = Scores.of(logits, tokens, n, scoreFunction);
        double[] p = new double[n];
        double[] gradScores = new double[tokens * n];
        for (int t = 0; t < tokens; t++) {
            int row = t * n;
            if (!normalised) {
                for (int i = 0; i < n; i++) {
                    p[i] += s[row + i];
                    gradScores[row + i] = c[i] / tokens;
                }
                continue;
            }
            double sum = 0.0;
            for (int i = 0; i < n; i++) {
                sum += s[row + i];
            }
            if (!(sum > 0.0)) {
                throw new IllegalArgumentException("every score of token " + t + " underflows to 0; s/Σs is undefined");
            }
            double dot = 0.0;
            for (int i = 0; i < n; i++) {
                double sn = s[row + i] / sum;
                p[i] += sn;
                dot += c[i] * sn;
            }
            for (int i = 0; i < n; i++) {
                gradScores[row + i] = (c[i] - dot) / (tokens * sum);
            }
        }
        double value = 0.0;
        for (int i = 0; i < n; i++) {
            value += c[i] * (p[i] / tokens);
        }
        return AuxLossResult.of(value, Scores.backprop(s, gradScores, tokens, n, scoreFunction));
    }

    /** Checks that N experts split into D contiguous equal groups; returns the group size N/D. */
    static int deviceSize(int numExperts, int numDevices) {
        if (numExperts % numDevices != 0) {
            throw new IllegalArgumentException("N=" + numExperts + " experts cannot be split into D=" + numDevices
                    + " equal contiguous device groups");
        }
        return numExperts / numDevices;
    }
}
