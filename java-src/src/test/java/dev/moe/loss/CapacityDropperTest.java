package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.moe.loss.LossFixtures.Case;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.ScoreFunction;

/** Capacity-based token dropping (docs/specification.md §g). */
class CapacityDropperTest {

    @Test
    void budgetMath() {
        assertEquals(3, CapacityDropper.deviceBudget(1.0, 12, 4));
        assertEquals(3, CapacityDropper.deviceBudget(1.0, 10, 4)); // ceil(2.5)
        assertEquals(4, CapacityDropper.deviceBudget(1.5, 10, 4)); // ceil(3.75)
        assertEquals(2, CapacityDropper.deviceBudget(0.5, 12, 4)); // ceil(1.5)
        assertEquals(0, CapacityDropper.deviceBudget(1.0, 0, 4));
        // The product is taken in double: 2.2 · 25 is 55.00000000000001.
        assertEquals(56, CapacityDropper.deviceBudget(2.2, 25, 1));
        assertEquals(11, CapacityDropper.deviceBudget(1.1, 10, 1));
        assertEquals(3, CapacityDropper.expertCapacity(1.0, 5, 2, 4)); // ceil(2.5)
        assertEquals(3, CapacityDropper.expertCapacity(1.25, 8, 2, 8)); // ceil(2.5)
        assertEquals(2, CapacityDropper.expertCapacity(1.0, 8, 2, 8));
        assertEquals(Integer.MAX_VALUE, CapacityDropper.expertCapacity(1e300, 8, 2, 8));
    }

    @Test
    void deviceLevelDropsTheLowestAffinityOnAnOverBudgetDevice() {
        // N = 4, D = 2: device 0 = {0, 1}, device 1 = {2, 3}. 6 assignments, budget ceil(6/2) = 3.
        int[] ids = {0, 1, 0, 2, 1, 3};
        float[] w = {0.9f, 0.8f, 0.3f, 0.7f, 0.5f, 0.6f};
        DropResult r = CapacityDropper.deviceLevel(4, 2).apply(3, 2, ids, w);
        assertEquals(CapacityDropper.Mode.DEVICE_LEVEL, r.mode());
        assertEquals(3, r.capacity());
        // Device 0 holds 0.9, 0.8, 0.3, 0.5: the 0.3 goes. Device 1 holds 2 and keeps both.
        assertArrayEquals(new int[] {0, 1, -1, 2, 1, 3}, r.ids());
        assertArrayEquals(new float[] {0.9f, 0.8f, 0f, 0.7f, 0.5f, 0.6f}, r.weights());
        assertArrayEquals(new int[] {1, 0}, r.dropped());
        assertEquals(1, r.totalDropped());
        // The inputs are untouched.
        assertArrayEquals(new int[] {0, 1, 0, 2, 1, 3}, ids);
        assertEquals(0.3f, w[2]);
    }

    @Test
    void tiesDropTheLaterTokenFirstThenTheHigherExpert() {
        // Every token picks experts 0 and 1 (device 0) at equal weight; budget ceil(6/2) = 3.
        // Token 1 lists expert 1 first: the tie inside a token is broken by expert index, not position.
        int[] ids = {0, 1, 1, 0, 0, 1};
        float[] w = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
        DropResult r = CapacityDropper.deviceLevel(4, 2).apply(3, 2, ids, w);
        // Kept: token 0 both, token 1 expert 0. Dropped: token 1 expert 1, token 2 both.
        assertArrayEquals(new int[] {0, 1, -1, 0, -1, -1}, r.ids());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0f, 0.5f, 0f, 0f}, r.weights());
        assertArrayEquals(new int[] {3, 0}, r.dropped());
        assertEquals(3, r.totalDropped());
    }

    @Test
    void affinityOutranksTokenOrder() {
        // Budget ceil(4/2) = 2 on device 0 = {0, 1}; a late strong token beats early weak ones.
        int[] ids = {0, 1, 0, 1};
        float[] w = {0.1f, 0.2f, 0.9f, 0.8f};
        DropResult r = CapacityDropper.deviceLevel(4, 2).apply(2, 2, ids, w);
        assertArrayEquals(new int[] {-1, -1, 0, 1}, r.ids());
    }

    @Test
    void perDeviceCountsOverSeveralDevices() {
        // N = 8, D = 4 (devices {0,1} {2,3} {4,5} {6,7}), T = 6, K = 2: budget ceil(12/4) = 3.
        int[] ids = {0, 2, 0, 3, 1, 2, 0, 3, 1, 2, 5, 6};
        float[] w = {0.6f, 0.4f, 0.5f, 0.45f, 0.7f, 0.3f, 0.2f, 0.35f, 0.55f, 0.25f, 0.9f, 0.8f};
        DropResult r = CapacityDropper.deviceLevel(8, 4).apply(6, 2, ids, w);
        // Device 0 holds 0.6, 0.5, 0.7, 0.2, 0.55 -> drop 0.2 and 0.5.
        // Device 1 holds 0.4, 0.45, 0.3, 0.35, 0.25 -> drop 0.25 and 0.3.
        assertArrayEquals(new int[] {2, 2, 0, 0}, r.dropped());
        assertEquals(4, r.totalDropped());
        assertArrayEquals(new int[] {0, 2, -1, 3, 1, -1, -1, 3, 1, -1, 5, 6}, r.ids());
    }

    @Test
    void alreadyAbsentAssignmentsAreNotCounted() {
        // 4 routed assignments (two are −1): budget ceil(4/2) = 2.
        int[] ids = {0, -1, 0, 1, 1, -1};
        float[] w = {0.4f, 0.0f, 0.3f, 0.2f, 0.1f, 0.7f};
        DropResult r = CapacityDropper.deviceLevel(4, 2).apply(3, 2, ids, w);
        assertEquals(2, r.capacity());
        assertArrayEquals(new int[] {0, -1, 0, -1, -1, -1}, r.ids());
        assertArrayEquals(new float[] {0.4f, 0.0f, 0.3f, 0f, 0f, 0.7f}, r.weights());
        assertEquals(2, r.totalDropped());
    }

    @Test
    void expertLevelKeepsTheHighestProbabilities() {
        // N = 4, T = 4, K = 1: capacity ceil(4·1/4) = 1; all four tokens want expert 0.
        int[] ids = {0, 0, 0, 0};
        float[] w = {0.2f, 0.9f, 0.9f, 0.4f};
        DropResult r = CapacityDropper.expertLevel(4).apply(4, 1, ids, w);
        assertEquals(CapacityDropper.Mode.EXPERT_LEVEL, r.mode());
        assertEquals(1, r.capacity());
        // 0.9 ties between tokens 1 and 2: token 1 (earlier) is kept.
        assertArrayEquals(new int[] {-1, 0, -1, -1}, r.ids());
        assertArrayEquals(new int[] {3, 0, 0, 0}, r.dropped());
        assertEquals(3, r.totalDropped());
        // Capacity factor 2: capacity 2, tokens 1 and 2 kept.
        DropResult r2 = CapacityDropper.expertLevel(4, 2.0).apply(4, 1, ids, w);
        assertArrayEquals(new int[] {-1, 0, 0, -1}, r2.ids());
    }

    @Test
    void noDropNeverDrops() {
        int[] ids = {0, 1, 0, 1, 0, 1, 0, 1};
        float[] w = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
        DropResult r = CapacityDropper.noDrop(8).apply(4, 2, ids, w);
        assertEquals(CapacityDropper.Mode.NO_DROP, r.mode());
        assertEquals(Integer.MAX_VALUE, r.capacity());
        assertArrayEquals(ids, r.ids());
        assertArrayEquals(w, r.weights());
        assertEquals(0, r.totalDropped());
        assertArrayEquals(new int[8], r.dropped());
    }

    @Test
    void aLargeCapacityDropsNothing() {
        Case c = LossFixtures.randomCase(9, ScoreFunction.SOFTMAX);
        RoutingResult routing = c.routing();
        // Capacity T·K or more: no unit can be over budget.
        double cf = (double) c.experts();
        for (CapacityDropper d : new CapacityDropper[] {CapacityDropper.deviceLevel(c.experts(), c.devices(), cf),
                CapacityDropper.expertLevel(c.experts(), cf)}) {
            DropResult r = d.apply(routing);
            assertTrue(r.capacity() >= c.tokens(), d + " capacity " + r.capacity());
            assertEquals(0, r.totalDropped(), d.toString());
            assertArrayEquals(routing.ids(), r.ids());
            assertArrayEquals(routing.weights(), r.weights());
        }
    }

    @Test
    void deviceLevelInvariantsOnRouterOutput() {
        for (long seed = 1; seed <= 10; seed++) {
            Case c = LossFixtures.randomCase(seed, ScoreFunction.SOFTMAX);
            RoutingResult routing = c.routing();
            CapacityDropper dropper = CapacityDropper.deviceLevel(c.experts(), c.devices());
            DropResult r = dropper.apply(routing);
            int size = c.experts() / c.devices();
            int budget = CapacityDropper.deviceBudget(1.0, (long) c.tokens() * c.topk(), c.devices());
            assertEquals(budget, r.capacity());
            int[] before = new int[c.devices()];
            int[] after = new int[c.devices()];
            float[] minKept = new float[c.devices()];
            float[] maxDropped = new float[c.devices()];
            java.util.Arrays.fill(minKept, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(maxDropped, Float.NEGATIVE_INFINITY);
            int total = 0;
            for (int o = 0; o < r.ids().length; o++) {
                int dev = routing.ids()[o] / size;
                before[dev]++;
                if (r.ids()[o] >= 0) {
                    after[dev]++;
                    assertEquals(routing.weights()[o], r.weights()[o]); // not renormalised
                    minKept[dev] = Math.min(minKept[dev], routing.weights()[o]);
                } else {
                    total++;
                    assertEquals(0f, r.weights()[o]);
                    maxDropped[dev] = Math.max(maxDropped[dev], routing.weights()[o]);
                }
            }
            for (int d = 0; d < c.devices(); d++) {
                assertEquals(Math.min(before[d], budget), after[d], "device " + d);
                assertEquals(before[d] - after[d], r.dropped()[d], "device " + d);
                assertTrue(maxDropped[d] <= minKept[d], "a dropped assignment outranks a kept one on device " + d);
            }
            assertEquals(total, r.totalDropped());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> CapacityDropper.deviceLevel(6, 4));
        assertThrows(IllegalArgumentException.class, () -> CapacityDropper.deviceLevel(8, 4, 0.0));
        assertThrows(IllegalArgumentException.class, () -> CapacityDropper.expertLevel(8, Double.NaN));
        CapacityDropper d = CapacityDropper.deviceLevel(4, 2);
        assertThrows(IllegalArgumentException.class, () -> d.apply(2, 2, new int[] {0, 1, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> d.apply(1, 2, new int[] {0, 4}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> d.apply(1, 2, new int[] {0, 1}, new float[] {0f, Float.NaN}));
    }
}
