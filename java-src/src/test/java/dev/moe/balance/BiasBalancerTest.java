package dev.moe.balance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BiasBalancerTest {

    @Test
    void specWorkedExampleSignRule() {  // docs/specification.md §e.5: counts (10, 6, 4, 4), γ = 0.001
        BiasBalancer b = new BiasBalancer(1, 4, BiasUpdateRule.SIGN, GammaSchedule.constant(0.001f));
        b.endStep(new long[][] {{10, 6, 4, 4}}, 3);
        assertArrayEquals(new float[] {-0.001f, 0f, 0.001f, 0.001f}, b.bias(0));
        assertEquals(1, b.step());
        assertEquals(3, b.tokensSeen());
    }

    @Test
    void exactMeanIsUnchangedAndEmptyStepsSkipUpdates() {  // docs/specification.md §k #10, #17
        BiasBalancer b = new BiasBalancer(2, 3, BiasUpdateRule.SIGN, GammaSchedule.constant(0.5f));
        b.endStep(new long[][] {{2, 2, 2}, {0, 0, 0}}, 2);
        assertArrayEquals(new float[3], b.bias(0));
        assertArrayEquals(new float[3], b.bias(1));
    }

    @Test
    void layersUpdateIndependently() {
        BiasBalancer b = new BiasBalancer(2, 2, BiasUpdateRule.SIGN, GammaSchedule.constant(0.25f));
        b.endStep(new long[][] {{3, 1}, {1, 3}}, 2);
        assertArrayEquals(new float[] {-0.25f, 0.25f}, b.bias(0));
        assertArrayEquals(new float[] {0.25f, -0.25f}, b.bias(1));
    }

    @Test
    void multiplicativeRuleStartsAtOneAndScalesBySign() {  // docs/specification.md §e.4: select on s*b, b init 1
        BiasBalancer b = new BiasBalancer(1, 4, BiasUpdateRule.MULTIPLICATIVE, GammaSchedule.constant(0.25f));
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, b.bias(0));
        assertEquals(dev.moe.routing.BiasMode.MULTIPLY, b.rule().mode());
        b.endStep(new long[][] {{10, 6, 4, 4}}, 3);
        assertArrayEquals(new float[] {0.75f, 1f, 1.25f, 1.25f}, b.bias(0));
        b.endStep(new long[][] {{10, 6, 4, 4}}, 3);
        assertArrayEquals(new float[] {0.5625f, 1f, 1.5625f, 1.5625f}, b.bias(0));
        assertThrows(IllegalArgumentException.class, () -> new BiasBalancer(1, 2, BiasUpdateRule.MULTIPLICATIVE,
                GammaSchedule.constant(1f)).endStep(new long[][] {{3, 1}}, 2));
        assertEquals(BiasUpdateRule.MULTIPLICATIVE, BiasUpdateRule.byName("multiplicative"));
    }

    @Test
    void proportionalRuleScalesWithTheRelativeError() {
        BiasBalancer b = new BiasBalancer(1, 4, BiasUpdateRule.PROPORTIONAL, GammaSchedule.constant(0.1f));
        b.endStep(new long[][] {{10, 6, 4, 4}}, 3);
        // mean 6: errors (6-c)/6 = (-2/3, 0, 1/3, 1/3)
        assertEquals(0.1f * (float) (-4.0 / 6), b.bias(0)[0], 1e-7);
        assertEquals(0f, b.bias(0)[1]);
        assertEquals(0.1f / 3, b.bias(0)[2], 1e-7);
    }

    @Test
    void gammaFreezesAfterTheScheduledTokens() {  // docs/specification.md §e.2, §k #16
        BiasBalancer b = new BiasBalancer(1, 2, BiasUpdateRule.SIGN, new GammaSchedule(0.5f, 10));
        b.endStep(new long[][] {{2, 0}}, 6);
        b.endStep(new long[][] {{2, 0}}, 6);   // started at 6 < 10 tokens: still updates
        assertEquals(0f, b.currentGamma());
        b.endStep(new long[][] {{2, 0}}, 6);   // frozen
        assertArrayEquals(new float[] {-1f, 1f}, b.bias(0));
        assertEquals(0.001f, GammaSchedule.deepseekV3().gammaAt(14_299_999_999_999L));
        assertEquals(0f, GammaSchedule.deepseekV3().gammaAt(14_300_000_000_000L));
    }

    @Test
    void badCountsAreRejected() {
        BiasBalancer b = new BiasBalancer(1, 2, BiasUpdateRule.SIGN, GammaSchedule.constant(0.1f));
        assertThrows(IllegalArgumentException.class, () -> b.endStep(new long[][] {{1, 2, 3}}, 1));
        assertThrows(IllegalArgumentException.class, () -> b.endStep(new long[][] {{1, 2}, {1, 2}}, 1));
        assertThrows(IllegalArgumentException.class, () -> b.endStep(new long[][] {{-1, 2}}, 1));
        assertThrows(IllegalArgumentException.class, () -> BiasUpdateRule.byName("additive"));
    }

    @Test
    void aBadLayerLeavesEveryLayerUntouched() {
        BiasBalancer b = new BiasBalancer(3, 2, BiasUpdateRule.SIGN, GammaSchedule.constant(0.5f));
        long[][] counts = {{10, 0}, {3, 7}, {1, -1}};
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> b.endStep(counts, 10));
        for (int l = 0; l < 3; l++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0f, 0f}, b.bias(l), "layer " + l);
        }
        org.junit.jupiter.api.Assertions.assertEquals(0, b.step());
    }
}
