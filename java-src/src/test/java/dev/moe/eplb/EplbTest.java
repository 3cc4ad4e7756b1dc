package dev.moe.eplb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class EplbTest {
    static final float[][] README_LOADS = {
        {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
        {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};

    @Test
    void reproducesTheEplbReadmeExample() {  // docs/specification.md §j
        ExpertPlacementPlan plan = Eplb.rebalance(README_LOADS, 16, 4, 2, 8);
        assertArrayEquals(new int[] {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1}, plan.phy2log()[0]);
        assertArrayEquals(new int[] {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}, plan.phy2log()[1]);
        assertArrayEquals(new int[] {1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1}, plan.logcnt()[0]);
        double[][] gpu = plan.gpuLoads(README_LOADS, 8);
        assertArrayEquals(new double[] {121.5, 86.5, 125, 113, 147.5, 131.5, 156, 152}, gpu[0], 1e-3);
        assertArrayEquals(new double[] {173, 179.5, 120.5, 172, 123, 152, 118.5, 117.5}, gpu[1], 1e-3);
        assertConsistent(plan, 12, 16);
    }

    @Test
    void globalPolicyWhenGroupsDoNotDivideNodes() {
        float[][] w = {{5, 1, 1, 1, 9, 2, 0, 3, 4}};
        ExpertPlacementPlan plan = Eplb.rebalance(w, 12, 3, 2, 4);  // 3 groups over 2 nodes: global
        assertTrue(!Eplb.isHierarchical(3, 2));
        assertConsistent(plan, 9, 12);
        // Extra slots go to the largest load per replica: 9 (e4), then 5 (e0) over 4.5, then 4.5 (e4).
        assertArrayEquals(new int[] {2, 1, 1, 1, 3, 1, 1, 1, 1}, plan.logcnt()[0]);
    }

    @Test
    void packingAndReplicationPrimitives() {
        int[][] p = Eplb.balancedPacking(new float[] {4, 4, 1, 1}, 2);
        assertArrayEquals(new int[] {0, 1, 0, 1}, p[0]);   // equal weights: index order, lightest pack, lower pack on ties
        assertArrayEquals(new int[] {0, 0, 1, 1}, p[1]);
        int[][] one = Eplb.balancedPacking(new float[] {3, 9, 1}, 3);
        assertArrayEquals(new int[] {0, 1, 2}, one[0]);
        int[][] r = Eplb.replicateExperts(new float[] {10, 30, 20}, 6);
        assertArrayEquals(new int[] {0, 1, 2, 1, 2, 1}, r[0]);
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 2}, r[1]);
        assertArrayEquals(new int[] {1, 3, 2}, r[2]);
        int[][] zeros = Eplb.replicateExperts(new float[4], 7);  // all-zero loads: every extra replica to expert 0
        assertArrayEquals(new int[] {4, 1, 1, 1}, zeros[2]);
    }

    @Test
    void requirementsAreEnforcedWithClearMessages() {
        float[][] w = {{1, 2, 3, 4}};
        assertMessage(() -> Eplb.rebalance(w, 6, 2, 1, 4), "multiple of GPUs");
        assertMessage(() -> Eplb.rebalance(w, 8, 2, 3, 4), "multiple of nodes");
        assertMessage(() -> Eplb.rebalance(w, 8, 3, 1, 4), "G=3");
        assertMessage(() -> Eplb.rebalance(w, 2, 2, 1, 2), "at least the 4");
        assertMessage(() -> Eplb.rebalance(new float[][] {{1, Float.NaN}}, 2, 1, 1, 1), "finite");
        assertMessage(() -> Eplb.rebalance(new float[][] {{1, -2}}, 2, 1, 1, 1), "finite and >= 0");
    }

    private static void assertMessage(Runnable r, String part) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private static void assertConsistent(ExpertPlacementPlan plan, int n, int r) {
        for (int l = 0; l < plan.phy2log().length; l++) {
            assertEquals(r, Arrays.stream(plan.logcnt()[l]).sum());
            for (int e = 0; e < n; e++) {
                assertTrue(plan.logcnt()[l][e] >= 1);
                for (int k = 0; k < plan.log2phy()[l][e].length; k++) {
                    int p = plan.log2phy()[l][e][k];
                    if (k < plan.logcnt()[l][e]) {
                        assertEquals(e, plan.phy2log()[l][p]);
                    } else {
                        assertEquals(-1, p);
                    }
                }
            }
        }
    }
}
