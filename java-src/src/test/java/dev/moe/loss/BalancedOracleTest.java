package dev.moe.loss;

import static dev.moe.loss.LossFixtures.assertRelative;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.moe.routing.ScoreFunction;

/**
 * Because Σ_i P_i = 1, perfectly balanced routing (f ≡ 1; f'' ≡ 1 for the communication loss)
 * gives a loss equal to its coefficient whatever the scores are (docs/specification.md §f). Σ_i P_i = 1 holds for
 * softmax scores (DeepSeek-V2) and for the normalised scores of the V3 loss; for the V2 losses over
 * sigmoid scores the balanced value is α times the mean score mass instead.
 */
class BalancedOracleTest {
    private static final double REL = 1e-12;

    @ParameterizedTest
    @EnumSource(value = ScoreFunction.class, names = "SOFTMAX")
    void expertBalance(ScoreFunction fn) {
        for (int[] shape : new int[][] {{4, 8, 2}, {6, 4, 2}, {8, 12, 3}, {16, 16, 1}}) {
            ExpertSelection sel = LossFixtures.roundRobin(shape[0], shape[1], shape[2]);
            assertArrayEquals(filled(shape[1], 1.0), sel.expertFractions(), 0.0);
            for (long seed = 1; seed <= 5; seed++) {
                double[] z = LossFixtures.randomLogits(seed, shape[0], shape[1], 3.0);
                for (double alpha : new double[] {AuxLossCoefficients.V2_EXPERT, AuxLossCoefficients.V2_LITE_EXPERT, 1.0}) {
                    assertRelative(alpha, new ExpertBalanceLoss(alpha, fn).compute(z, shape[0], sel).value(), REL, "L_ExpBal");
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScoreFunction.class, names = "SOFTMAX")
    void deviceBalance(ScoreFunction fn) {
        // f ≡ 1, hence f' ≡ 1.
        ExpertSelection sel = LossFixtures.roundRobin(6, 12, 2);
        // f' ≡ 1 although f is not: experts 0 and 1 share device 0 and carry 2 and 0 tokens.
        ExpertSelection uneven = new ExpertSelection(4, 4, 1, new int[] {0, 0, 2, 3});
        assertArrayEquals(new double[] {1.0, 1.0}, DeviceBalanceLoss.deviceFractions(uneven, 2), 0.0);
        for (long seed = 1; seed <= 5; seed++) {
            for (int d : new int[] {2, 3, 4}) {
                double[] z = LossFixtures.randomLogits(seed, 6, 12, 3.0);
                assertRelative(AuxLossCoefficients.V2_DEVICE,
                        new DeviceBalanceLoss(AuxLossCoefficients.V2_DEVICE, d, fn).compute(z, 6, sel).value(), REL, "L_DevBal D=" + d);
            }
            double[] z = LossFixtures.randomLogits(seed, 4, 4, 3.0);
            assertRelative(0.05, new DeviceBalanceLoss(0.05, 2, fn).compute(z, 4, uneven).value(), REL, "L_DevBal uneven f");
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScoreFunction.class, names = "SOFTMAX")
    void communicationBalance(ScoreFunction fn) {
        // D = 4 devices of 2 experts, M = 2: each token reaches exactly 2 devices, each device 2 tokens.
        ExpertSelection k2 = new ExpertSelection(4, 8, 2, new int[] {0, 2, 4, 6, 1, 5, 3, 7});
        // K = 3: two of a token's experts may share a device; still exactly 2 devices per token.
        ExpertSelection k3 = new ExpertSelection(4, 8, 3, new int[] {0, 1, 2, 4, 5, 6, 0, 4, 5, 2, 3, 7});
        for (ExpertSelection sel : new ExpertSelection[] {k2, k3}) {
            assertArrayEquals(filled(4, 1.0), CommunicationBalanceLoss.receiveFractions(sel, 4, 2), 0.0);
            for (long seed = 1; seed <= 5; seed++) {
                double[] z = LossFixtures.randomLogits(seed, 4, 8, 3.0);
                assertRelative(AuxLossCoefficients.V2_COMMUNICATION,
                        new CommunicationBalanceLoss(AuxLossCoefficients.V2_COMMUNICATION, 4, 2, fn).compute(z, 4, sel).value(),
                        REL, "L_CommBal");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ScoreFunction.class)
    void sequenceBalanceSelectingItsOwnTopK(ScoreFunction fn) {
        int t = 8;
        int n = 16;
        int k = 4;
        ExpertSelection intended = LossFixtures.roundRobin(t, n, k);
        SequenceBalanceLoss loss = new SequenceBalanceLoss(AuxLossCoefficients.V3_SEQUENCE, n, k, fn);
        for (long seed = 1; seed <= 5; seed++) {
            float[] z = new float[t * n];
            double[] noise = LossFixtures.randomLogits(seed, t, n, 1.0);
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) noise[i];
            }
            // Lift the intended experts well above the rest so the plain top-K picks them.
            for (int tok = 0; tok < t; tok++) {
                for (int q = 0; q < k; q++) {
                    z[tok * n + intended.id(tok, q)] += 8.0f;
                }
            }
            ExpertSelection chosen = loss.select(AuxLosses.widen(z), t, null);
            assertArrayEquals(filled(n, 1.0), chosen.expertFractions(), 0.0);
            assertRelative(AuxLossCoefficients.V3_SEQUENCE, loss.compute(z, t, null).value(), REL, "L_Bal");
        }
    }

    @ParameterizedTest
    @EnumSource(value = ScoreFunction.class, names = "SOFTMAX")
    void allThreeV2LossesTogether(ScoreFunction fn) {
        ExpertSelection sel = new ExpertSelection(4, 8, 2, new int[] {0, 2, 4, 6, 1, 5, 3, 7});
        AuxLoss v2 = AuxLosses.sum(new ExpertBalanceLoss(0.003, fn), new DeviceBalanceLoss(0.05, 4, fn),
                new CommunicationBalanceLoss(0.02, 4, 2, fn));
        for (long seed = 1; seed <= 5; seed++) {
            double[] z = LossFixtures.randomLogits(seed, 4, 8, 3.0);
            assertRelative(0.073, v2.compute(z, 4, sel).value(), REL, "L_ExpBal + L_DevBal + L_CommBal");
        }
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @Test
    void v2LossesOverSigmoidScoresGiveAlphaTimesTheMeanScoreMass() {
        ExpertSelection sel = LossFixtures.roundRobin(6, 12, 2);
        for (long seed = 1; seed <= 5; seed++) {
            double[] z = LossFixtures.randomLogits(seed, 6, 12, 3.0);
            double mass = 0.0;
            for (double v : z) {
                mass += 1.0 / (1.0 + Math.exp(-v));
            }
            mass /= 6;
            assertRelative(0.003 * mass, new ExpertBalanceLoss(0.003, ScoreFunction.SIGMOID).compute(z, 6, sel).value(), 1e-12,
                    "L_ExpBal over sigmoid");
            assertRelative(0.05 * mass, new DeviceBalanceLoss(0.05, 3, ScoreFunction.SIGMOID).compute(z, 6, sel).value(), 1e-12,
                    "L_DevBal over sigmoid");
        }
    }
}
