package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import dev.moe.loss.LossFixtures.Case;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.Routers;
import dev.moe.routing.ScoreFunction;

/** The routing-coupled API, sums, per-sequence averaging, interference norms and argument checks. */
class AuxLossesTest {

    @Test
    void coefficientsAndPresets() {
        assertEquals(0.003, AuxLossCoefficients.V2_EXPERT);
        assertEquals(0.05, AuxLossCoefficients.V2_DEVICE);
        assertEquals(0.02, AuxLossCoefficients.V2_COMMUNICATION);
        assertEquals(0.001, AuxLossCoefficients.V2_LITE_EXPERT);
        assertEquals(0.0001, AuxLossCoefficients.V3_SEQUENCE);
        assertEquals(0.003, ExpertBalanceLoss.deepseekV2().coefficient());
        assertEquals(ScoreFunction.SOFTMAX, ExpertBalanceLoss.deepseekV2().scoreFunction());
        assertEquals(0.001, ExpertBalanceLoss.deepseekV2Lite().coefficient());
        SequenceBalanceLoss v3 = SequenceBalanceLoss.deepseekV3();
        assertEquals(0.0001, v3.coefficient());
        assertEquals(256, v3.numExperts());
        assertEquals(8, v3.topk());
        assertEquals(ScoreFunction.SIGMOID, v3.scoreFunction());
    }

    @Test
    void floatApiEqualsTheFixedSelectionApi() {
        Case c = LossFixtures.randomCase(3, ScoreFunction.SOFTMAX);
        AuxLoss loss = new DeviceBalanceLoss(0.05, c.devices(), ScoreFunction.SOFTMAX);
        AuxLossResult a = loss.compute(c.logits(), c.tokens(), c.routing());
        AuxLossResult b = loss.compute(c.z(), c.tokens(), c.selection());
        assertEquals(b.value(), a.value(), 0.0);
        assertArrayEquals(b.gradLogits(), a.gradLogits(), 0.0);
        assertThrows(NullPointerException.class, () -> loss.compute(c.logits(), c.tokens(), null));
    }

    @Test
    void sumAddsValuesGradientsAndCoefficients() {
        Case c = LossFixtures.randomCase(4, ScoreFunction.SIGMOID);
        AuxLoss a = new ExpertBalanceLoss(0.003, ScoreFunction.SIGMOID);
        AuxLoss b = new CommunicationBalanceLoss(0.02, c.devices(), 2, ScoreFunction.SIGMOID);
        AuxLossResult ra = a.compute(c.logits(), c.tokens(), c.routing());
        AuxLossResult rb = b.compute(c.logits(), c.tokens(), c.routing());
        AuxLossResult rs = AuxLosses.sum(a, b).compute(c.logits(), c.tokens(), c.routing());
        assertEquals(ra.value() + rb.value(), rs.value(), 1e-18);
        for (int k = 0; k < rs.gradLogits().length; k++) {
            assertEquals(ra.gradLogits()[k] + rb.gradLogits()[k], rs.gradLogits()[k], 1e-18);
        }
        assertEquals(0.023, AuxLosses.sum(a, b).coefficient(), 1e-15);
        assertThrows(IllegalArgumentException.class, AuxLosses::sum);
    }

    @Test
    void sequenceWiseIsTheMeanOverSequencesAndBatchWiseIsOneScope() {
        RoutingConfig config = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(2).groupTopJ(1).build();
        double[] zd = LossFixtures.randomLogits(5, 9, 8, 1.5);
        float[] z = new float[zd.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) zd[i];
        }
        SequenceBalanceLoss loss = SequenceBalanceLoss.forConfig(config, 1.0);
        // Sequences of 4 and 5 tokens.
        AuxLossResult first = loss.compute(Arrays.copyOfRange(z, 0, 32), 4, null);
        AuxLossResult second = loss.compute(Arrays.copyOfRange(z, 32, 72), 5, null);
        AuxLossResult seq = AuxLosses.meanOverSequences(loss, z, null, 4, 5);
        assertEquals((first.value() + second.value()) / 2, seq.value(), 1e-15);
        for (int k = 0; k < 32; k++) {
            assertEquals(first.gradLogits()[k] / 2, seq.gradLogits()[k], 1e-17);
        }
        for (int k = 0; k < 40; k++) {
            assertEquals(second.gradLogits()[k] / 2, seq.gradLogits()[32 + k], 1e-17);
        }
        AuxLossResult batch = loss.compute(z, 9, null);
        assertNotEquals(batch.value(), seq.value());
        AuxLossResult one = AuxLosses.meanOverSequences(loss, z, null, 9);
        assertEquals(batch.value(), one.value(), 0.0);
        assertArrayEquals(batch.gradLogits(), one.gradLogits(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> AuxLosses.meanOverSequences(loss, z, null, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> AuxLosses.meanOverSequences(loss, z, null, 9, 0));
    }

    @Test
    void meanOverSequencesOfASumAveragesEachPartWithItsOwnSelection() {
        RoutingConfig config = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(2).groupTopJ(1).build();
        double[] zd = LossFixtures.randomLogits(6, 6, 8, 1.5);
        float[] z = new float[zd.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) zd[i];
        }
        RoutingResult routing = Routers.reference(config).route(z, new float[] {0.5f, 0, 0, 0, 0, 0, 0, -0.5f});
        AuxLoss v3 = SequenceBalanceLoss.forConfig(config, 1e-4);
        AuxLoss v2 = new ExpertBalanceLoss(1e-3, ScoreFunction.SIGMOID);
        AuxLossResult sum = AuxLosses.meanOverSequences(AuxLosses.sum(v3, v2), z, routing, 3, 3);
        double expected = AuxLosses.meanOverSequences(v3, z, routing, 3, 3).value()
                + AuxLosses.meanOverSequences(v2, z, routing, 3, 3).value();
        assertEquals(expected, sum.value(), 1e-18);
    }

    @Test
    void gradientNormIsTheInterferenceInjectedIntoTheLogits() {
        Case c = LossFixtures.randomCase(8, ScoreFunction.SIGMOID);
        SequenceBalanceLoss small = new SequenceBalanceLoss(1e-4, c.experts(), c.topk(), ScoreFunction.SIGMOID);
        SequenceBalanceLoss large = new SequenceBalanceLoss(1e-2, c.experts(), c.topk(), ScoreFunction.SIGMOID);
        AuxLossResult a = small.compute(c.logits(), c.tokens(), null);
        AuxLossResult b = large.compute(c.logits(), c.tokens(), null);
        double sq = 0.0;
        for (double g : a.gradLogits()) {
            sq += g * g;
        }
        assertEquals(Math.sqrt(sq), a.gradNorm(), 0.0);
        assertTrue(a.gradNorm() > 0.0);
        // The interference scales with the coefficient.
        assertEquals(100 * a.gradNorm(), b.gradNorm(), 1e-12 * b.gradNorm());
    }

    @Test
    void noTokensGiveZero() {
        AuxLossResult r = new ExpertBalanceLoss(0.003, ScoreFunction.SOFTMAX).compute(new double[0], 0,
                new ExpertSelection(0, 4, 2, new int[0]));
        assertEquals(0.0, r.value());
        assertEquals(0, r.gradLogits().length);
        assertEquals(0.0, r.gradNorm());
        assertEquals(0.0, SequenceBalanceLoss.deepseekV3().compute(new float[0], 0, null).value());
    }

    @Test
    void rejectsBadArguments() {
        ExpertSelection sel = new ExpertSelection(1, 4, 2, new int[] {0, 1});
        ExpertBalanceLoss loss = new ExpertBalanceLoss(1.0, ScoreFunction.SOFTMAX);
        assertThrows(IllegalArgumentException.class, () -> loss.compute(new double[3], 1, sel));
        assertThrows(IllegalArgumentException.class, () -> loss.compute(new double[8], 2, sel));
        assertThrows(IllegalArgumentException.class, () -> loss.compute(new double[] {0, Double.NaN, 0, 0}, 1, sel));
        assertThrows(IllegalArgumentException.class, () -> new DeviceBalanceLoss(1.0, 3, ScoreFunction.SOFTMAX)
                .compute(new double[4], 1, sel));
        assertThrows(IllegalArgumentException.class, () -> new CommunicationBalanceLoss(1.0, 2, 3, ScoreFunction.SOFTMAX));
        assertThrows(IllegalArgumentException.class, () -> new ExpertBalanceLoss(-1.0, ScoreFunction.SOFTMAX));
        assertThrows(IllegalArgumentException.class, () -> new SequenceBalanceLoss(1.0, 4, 5, ScoreFunction.SIGMOID));
        // Every sigmoid underflows to 0: s/Σs is undefined.
        assertThrows(IllegalArgumentException.class, () -> new SequenceBalanceLoss(1.0, 4, 2, ScoreFunction.SIGMOID)
                .compute(new double[] {-800, -800, -800, -800}, 1, sel));
    }
}
