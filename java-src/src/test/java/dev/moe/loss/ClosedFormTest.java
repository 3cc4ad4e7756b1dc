package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.moe.loss.LossFixtures.Case;
import dev.moe.routing.ScoreFunction;

/** The generic chain rule against the closed-form gradients written in docs/specification.md §f.1 and §f.2. */
class ClosedFormTest {

    @Test
    void expertBalanceWithSoftmaxMatchesTheSpecFormula() {
        for (long seed = 11; seed <= 15; seed++) {
            Case c = LossFixtures.randomCase(seed, ScoreFunction.SOFTMAX);
            double alpha = 0.003;
            int t = c.tokens();
            int n = c.experts();
            double[] z = c.z();
            double[] f = c.selection().expertFractions();
            double[] g = new ExpertBalanceLoss(alpha, ScoreFunction.SOFTMAX).compute(z, t, c.selection()).gradLogits();
            for (int tok = 0; tok < t; tok++) {
                double[] s = softmax(z, tok * n, n);
                double fs = 0.0;
                for (int i = 0; i < n; i++) {
                    fs += f[i] * s[i];
                }
                for (int j = 0; j < n; j++) {
                    double expected = alpha / t * s[j] * (f[j] - fs);
                    assertEquals(expected, g[tok * n + j], 1e-15, "token " + tok + " expert " + j);
                }
            }
        }
    }

    @Test
    void sequenceBalanceWithSigmoidMatchesTheSpecFormula() {
        for (long seed = 21; seed <= 25; seed++) {
            Case c = LossFixtures.randomCase(seed, ScoreFunction.SIGMOID);
            double alpha = AuxLossCoefficients.V3_SEQUENCE;
            int t = c.tokens();
            int n = c.experts();
            double[] z = c.z();
            SequenceBalanceLoss loss = new SequenceBalanceLoss(alpha, n, c.topk(), ScoreFunction.SIGMOID);
            ExpertSelection sel = loss.select(z, t, null);
            double[] f = sel.expertFractions();
            double[] g = loss.compute(z, t, sel).gradLogits();
            for (int tok = 0; tok < t; tok++) {
                double[] s = new double[n];
                double sum = 0.0;
                for (int i = 0; i < n; i++) {
                    s[i] = 1.0 / (1.0 + Math.exp(-z[tok * n + i]));
                    sum += s[i];
                }
                double fs = 0.0;
                for (int i = 0; i < n; i++) {
                    fs += f[i] * s[i] / sum;
                }
                for (int j = 0; j < n; j++) {
                    double expected = alpha / t * (f[j] - fs) / sum * s[j] * (1.0 - s[j]);
                    assertEquals(expected, g[tok * n + j], 1e-17, "token " + tok + " expert " + j);
                }
            }
        }
    }

    private static double[] softmax(double[] z, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, z[from + i]);
        }
        double[] s = new double[n];
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            s[i] = Math.exp(z[from + i] - max);
            sum += s[i];
        }
        for (int i = 0; i < n; i++) {
            s[i] /= sum;
        }
        return s;
    }
}
