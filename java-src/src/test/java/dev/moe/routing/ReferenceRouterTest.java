package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The reference router against the spec's worked cases and invariants. */
class ReferenceRouterTest {

    /** Spec §k conformance vector for #2: the −∞ mask picks experts (2, 3, 4), not (2, 3, 0). */
    static final RoutingConfig CONFORMANCE = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(3)
            .scoreFunction(ScoreFunction.SIGMOID).groupScore(GroupScore.TOP_J_SUM).groupTopJ(2).normalize(true)
            .routeScale(2.5f).build();
    static final float[] CONFORMANCE_Z = {2, 1, 0.5f, 0, -1, -2, 3, -3};
    static final float[] CONFORMANCE_B = {-1.5f, -1.5f, -0.1f, -0.1f, -0.3f, -0.3f, -1, -1};

    @Test
    void conformanceVectorMasksExcludedGroupsWithMinusInfinity() {
        RoutingResult r = Routers.reference(CONFORMANCE).route(CONFORMANCE_Z, CONFORMANCE_B);
        assertArrayEquals(new int[] {2, 3, 4}, r.ids());
        assertEquals(1.1184, r.weight(0, 0), 1e-4);
        assertEquals(0.8984, r.weight(0, 1), 1e-4);
        assertEquals(0.4832, r.weight(0, 2), 1e-4);
        assertArrayEquals(new long[] {0, 0, 1, 1, 1, 0, 0, 0}, r.expertLoad());
    }

    @Test
    void tiesGoToTheLowerIndex() {
        RoutingConfig c = RoutingConfig.builder().experts(16).groups(4).topkGroups(2).topk(4).groupTopJ(2).build();
        // All logits equal: every group ties, groups 0 and 1 are kept, experts 0..3 win.
        RoutingResult r = Routers.reference(c).route(new float[16], null);
        assertArrayEquals(new int[] {0, 1, 2, 3}, r.ids());
        for (float w : r.weights()) {
            assertEquals(2.5f / 4, w, 1e-7f);
        }
        // Ties inside the chosen set keep ascending ids after the larger scores.
        float[] z = new float[16];
        z[9] = 1f;
        z[13] = 1f;
        z[12] = 0.5f;
        r = Routers.reference(c).route(z, null);
        assertArrayEquals(new int[] {9, 13, 12, 8}, r.ids());
    }

    @Test
    void v3InvariantsHoldOnRandomData() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        int t = 300;
        float[] z = SyntheticLogits.generate(t, 256, 1.0f, 3);
        float[] b = new float[256];
        for (int i = 0; i < 256; i++) {
            b[i] = (i % 7 - 3) * 0.01f;
        }
        RoutingResult r = Routers.reference(c).route(z, b);
        long total = 0;
        for (long l : r.expertLoad()) {
            total += l;
        }
        assertEquals((long) t * 8, total);
        for (int tok = 0; tok < t; tok++) {
            Set<Integer> ids = new HashSet<>();
            Set<Integer> groups = new HashSet<>();
            double sum = 0;
            float prevSel = Float.POSITIVE_INFINITY;
            for (int k = 0; k < 8; k++) {
                int id = r.id(tok, k);
                ids.add(id);
                groups.add(id / 32);
                sum += r.weight(tok, k);
                float sel = dev.moe.math.DetMath.sigmoid(z[tok * 256 + id]) + b[id];
                assertTrue(sel <= prevSel, "not sorted by biased score");
                prevSel = sel;
            }
            assertEquals(8, ids.size(), "duplicate expert");
            assertTrue(groups.size() <= 4, "more than M groups");
            assertEquals(2.5, sum, 1e-5);
        }
    }

    @Test
    void v2WeightsAreUnnormalisedSoftmaxTimesSixteen() {
        RoutingConfig c = RoutingConfig.deepseekV2();
        float[] z = SyntheticLogits.generate(50, 160, 1.0f, 5);
        RoutingResult r = Routers.reference(c).route(z, null);
        for (int tok = 0; tok < 50; tok++) {
            double denom = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < 160; i++) {
                max = Math.max(max, z[tok * 160 + i]);
            }
            for (int i = 0; i < 160; i++) {
                denom += Math.exp(z[tok * 160 + i] - max);
            }
            double sum = 0;
            Set<Integer> devices = new HashSet<>();
            for (int k = 0; k < 6; k++) {
                int id = r.id(tok, k);
                devices.add(id / 20);
                double expected = 16.0 * Math.exp(z[tok * 160 + id] - max) / denom;
                assertEquals(expected, r.weight(tok, k), 1e-5 * 16);
                sum += r.weight(tok, k);
            }
            assertTrue(sum > 0 && sum < 16);
            assertTrue(devices.size() <= 3);
        }
    }

    @Test
    void deviceLimitUsesTheMaxOfEachGroup() {
        // Group 0 holds the single best expert; group 1 has the better sum but a lower max.
        RoutingConfig c = RoutingConfig.builder().experts(8).groups(2).topkGroups(1).topk(2)
                .scoreFunction(ScoreFunction.SOFTMAX).groupScore(GroupScore.MAX).normalize(false).routeScale(1f).build();
        float[] z = {5, -5, -5, -5, 4.8f, 4.8f, 4.8f, 4.8f};
        assertArrayEquals(new int[] {0, 1}, Routers.reference(c).route(z, null).ids());
        RoutingConfig sum = c.toBuilder().groupScore(GroupScore.TOP_J_SUM).groupTopJ(2).build();
        assertArrayEquals(new int[] {4, 5}, Routers.reference(sum).route(z, null).ids());
    }

    @Test
    void underflowingScoresGetZeroWeightsThroughTheGuard() {
        RoutingConfig c = RoutingConfig.builder().experts(16).groups(1).topkGroups(1).topk(2).build();
        float[] z = new float[16];
        java.util.Arrays.fill(z, -200f);
        RoutingResult r = Routers.reference(c).route(z, null);
        assertEquals(1, r.stats().zeroSumRows());
        assertArrayEquals(new float[] {0f, 0f}, r.weights());
        assertArrayEquals(new int[] {0, 1}, r.ids());
    }

    @Test
    void nonFiniteLogitsAreRejectedWithTheRowNamed() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        float[] z = SyntheticLogits.generate(5, 256, 0.5f, 1);
        z[3 * 256 + 17] = Float.NaN;
        var e = assertThrows(NonFiniteInputException.class, () -> Routers.reference(c).route(z, null));
        assertEquals(3, e.row());
        assertEquals(17, e.column());
        assertTrue(e.getMessage().contains("row 3"), e.getMessage());
        z[3 * 256 + 17] = 0f;
        z[256 + 2] = Float.NEGATIVE_INFINITY;
        assertEquals(1, assertThrows(NonFiniteInputException.class, () -> Routers.reference(c).route(z, null)).row());
    }

    @Test
    void nonFiniteBiasIsRejected() {
        float[] b = new float[256];
        b[9] = Float.POSITIVE_INFINITY;
        var e = assertThrows(IllegalArgumentException.class,
                () -> Routers.reference(RoutingConfig.deepseekV3()).route(new float[256], b));
        assertTrue(e.getMessage().contains("bias[9]"), e.getMessage());
    }

    @Test
    void emptyBatchDoesNothing() {
        RoutingResult r = Routers.reference(RoutingConfig.deepseekV3()).route(new float[0], null);
        assertEquals(0, r.numTokens());
        assertEquals(0, r.ids().length);
        assertEquals(0, java.util.Arrays.stream(r.expertLoad()).sum());
    }

    @Test
    void wrongShapesAreRejectedBeforeRouting() {
        Router router = Routers.reference(RoutingConfig.deepseekV3());
        var e = assertThrows(IllegalArgumentException.class, () -> router.route(new float[300], null));
        assertTrue(e.getMessage().contains("N=256"), e.getMessage());
        MemorySegment z = MemorySegment.ofArray(new float[512]);
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> router.route(z, 2, null, MemorySegment.ofArray(new int[15]), MemorySegment.ofArray(new float[16]), null));
        assertTrue(e2.getMessage().startsWith("ids"), e2.getMessage());
        assertThrows(IllegalArgumentException.class, () -> router.route(new float[256], new float[255]));
    }

    @Test
    void loadIsAccumulated() {
        Router router = Routers.reference(CONFORMANCE);
        long[] load = new long[8];
        MemorySegment l = MemorySegment.ofArray(load);
        for (int i = 0; i < 3; i++) {
            router.route(MemorySegment.ofArray(CONFORMANCE_Z), 1, MemorySegment.ofArray(CONFORMANCE_B),
                    MemorySegment.ofArray(new int[3]), MemorySegment.ofArray(new float[3]), l);
        }
        assertArrayEquals(new long[] {0, 0, 3, 3, 3, 0, 0, 0}, load);
    }
}
