package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.Routers;
import dev.moe.routing.ScoreFunction;

/** Small examples worked by hand (docs/specification.md §f.1, §f.2). */
class HandExamplesTest {

    /*
     * DeepSeek-V2 example: T = 2, N = 4, K = 2, softmax, logits ln(p) so that the scores are
     *   token 0: s = (0.4, 0.3, 0.2, 0.1) -> top-2 {0, 1}
     *   token 1: s = (0.5, 0.1, 0.3, 0.1) -> top-2 {0, 2}
     * counts (2, 1, 1, 0), f = N/(K·T)·counts = (2, 1, 1, 0), P = (0.45, 0.2, 0.25, 0.1).
     */
    static final float[] V2_LOGITS = {
        (float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2), (float) Math.log(0.1),
        (float) Math.log(0.5), (float) Math.log(0.1), (float) Math.log(0.3), (float) Math.log(0.1)};
    static final double TOL = 1e-6;

    static RoutingResult v2Routing() {
        RoutingConfig c = RoutingConfig.builder().experts(4).groups(1).topkGroups(1).topk(2).scoreFunction(ScoreFunction.SOFTMAX)
                .groupScore(GroupScore.MAX).normalize(false).routeScale(1.0f).build();
        return Routers.reference(c).route(V2_LOGITS, null);
    }

    @Test
    void theRouterSelectsWhatTheExampleAssumes() {
        RoutingResult r = v2Routing();
        assertArrayEquals(new int[] {0, 1, 0, 2}, r.ids());
        assertArrayEquals(new double[] {2, 1, 1, 0}, ExpertSelection.of(r).expertFractions(), 0.0);
    }

    @Test
    void expertLevel() {
        // Σ f P = 2·0.45 + 1·0.2 + 1·0.25 + 0·0.1 = 1.35; L = 0.003 · 1.35.
        AuxLossResult r = ExpertBalanceLoss.deepseekV2().compute(V2_LOGITS, 2, v2Routing());
        assertEquals(0.00405, r.value(), 0.00405 * TOL);
        // Token 0: Σ_i f_i s_i = 0.8 + 0.3 + 0.2 = 1.3.
        // dL/dz[0,0] = (α/T)·0.4·(2 − 1.3) = 0.14 α;  dL/dz[0,3] = (α/T)·0.1·(0 − 1.3) = −0.065 α.
        assertEquals(0.14 * 0.003, r.gradLogits()[0], 0.14 * 0.003 * TOL);
        assertEquals(-0.065 * 0.003, r.gradLogits()[3], 0.065 * 0.003 * TOL);
        // V2-Lite only changes the coefficient.
        assertEquals(0.00135, ExpertBalanceLoss.deepseekV2Lite().compute(V2_LOGITS, 2, v2Routing()).value(), 0.00135 * TOL);
    }

    @Test
    void deviceLevel() {
        // D = 2: E_1 = {0, 1}, E_2 = {2, 3}. f' = (1.5, 0.5), P' = (0.65, 0.35).
        // Σ f' P' = 0.975 + 0.175 = 1.15; L = 0.05 · 1.15.
        ExpertSelection sel = ExpertSelection.of(v2Routing());
        assertArrayEquals(new double[] {1.5, 0.5}, DeviceBalanceLoss.deviceFractions(sel, 2), 0.0);
        AuxLossResult r = DeviceBalanceLoss.deepseekV2(2).compute(V2_LOGITS, 2, v2Routing());
        assertEquals(0.0575, r.value(), 0.0575 * TOL);
    }

    @Test
    void communication() {
        // D = 2, M = 2: token 0 reaches device 0 only, token 1 devices 0 and 1; received (2, 1).
        // f'' = D/(M·T)·(2, 1) = (1, 0.5); Σ f'' P'' = 0.65 + 0.175 = 0.825; L = 0.02 · 0.825.
        ExpertSelection sel = ExpertSelection.of(v2Routing());
        assertArrayEquals(new double[] {1.0, 0.5}, CommunicationBalanceLoss.receiveFractions(sel, 2, 2), 0.0);
        AuxLossResult r = CommunicationBalanceLoss.deepseekV2(2, 2).compute(V2_LOGITS, 2, v2Routing());
        assertEquals(0.0165, r.value(), 0.0165 * TOL);
        // M = 1: f'' = (2, 1), Σ f'' P'' = 1.3 + 0.35 = 1.65.
        assertEquals(0.033, new CommunicationBalanceLoss(0.02, 2, 1, ScoreFunction.SOFTMAX)
                .compute(V2_LOGITS, 2, v2Routing()).value(), 0.033 * TOL);
    }

    @Test
    void allThreeV2Terms() {
        RoutingConfig c = RoutingConfig.builder().experts(4).groups(2).topkGroups(2).topk(2).scoreFunction(ScoreFunction.SOFTMAX)
                .groupScore(GroupScore.MAX).normalize(false).routeScale(1.0f).build();
        RoutingResult r = Routers.reference(c).route(V2_LOGITS, null);
        double expected = 0.00405 + 0.0575 + 0.0165;
        assertEquals(expected, AuxLosses.deepseekV2(c).compute(V2_LOGITS, 2, r).value(), expected * TOL);
        assertEquals(0.073, AuxLosses.deepseekV2(c).coefficient(), 1e-15);
    }

    /*
     * DeepSeek-V3 example: T = 2, N = 4, K = 2, sigmoid, logits chosen for round scores
     *   token 0: z = (ln 3, 0, −ln 3, 0) -> s = (0.75, 0.5, 0.25, 0.5), S = 2, s' = (0.375, 0.25, 0.125, 0.25)
     *   token 1: z = (−ln 4, ln 4, 0, 0) -> s = (0.2, 0.8, 0.5, 0.5),   S = 2, s' = (0.1, 0.4, 0.25, 0.25)
     * Top-2 with ties to the lower index: token 0 {0, 1} (1 beats 3), token 1 {1, 2} (2 beats 3).
     * f = (1, 2, 1, 0), P = (0.2375, 0.325, 0.1875, 0.25), Σ f P = 1.075.
     */
    @Test
    void sequenceWise() {
        float ln3 = (float) Math.log(3);
        float ln4 = (float) Math.log(4);
        float[] z = {ln3, 0, -ln3, 0, -ln4, ln4, 0, 0};
        SequenceBalanceLoss loss = new SequenceBalanceLoss(AuxLossCoefficients.V3_SEQUENCE, 4, 2, ScoreFunction.SIGMOID);
        ExpertSelection sel = loss.select(AuxLosses.widen(z), 2, null);
        assertArrayEquals(new int[] {0, 1, 1, 2}, sel.ids());
        AuxLossResult r = loss.compute(z, 2, null);
        double a = AuxLossCoefficients.V3_SEQUENCE;
        assertEquals(1.075 * a, r.value(), 1.075 * a * TOL);
        // Token 0: Σ f s' = 0.375 + 0.5 + 0.125 = 1; dL/dz[0,j] = (α/T)(f_j − 1)/S · s_j(1 − s_j).
        double[] g = r.gradLogits();
        assertEquals(0.0, g[0], a * 1e-7);
        assertEquals(a / 2 * (2 - 1) / 2 * 0.25, g[1], a * 1e-7);
        assertEquals(a / 2 * (1 - 1) / 2 * 0.1875, g[2], a * 1e-7);
        assertEquals(a / 2 * (0 - 1) / 2 * 0.25, g[3], a * 1e-7);
    }
}
