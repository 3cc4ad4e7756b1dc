package dev.moe.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.Routers;
import dev.moe.routing.ScoreFunction;

/** The selection behind the frequencies f. */
class ExpertSelectionTest {

    @Test
    void topKTakesTheLargestWithTiesToTheLowerIndex() {
        double[] z = {1, 3, 3, 0, 3, 2, /* token 1 */ 0, 0, 0, 0, 0, 0};
        ExpertSelection s = ExpertSelection.topK(z, 2, 6, 3);
        assertArrayEquals(new int[] {1, 2, 4, 0, 1, 2}, s.ids());
    }

    @Test
    void topKIgnoresSaturationOfTheScores() {
        // σ(40) and σ(50) are both 1.0 in double; the logits still rank 50 first.
        ExpertSelection s = ExpertSelection.topK(new double[] {40, 50, -1}, 1, 3, 1);
        assertArrayEquals(new int[] {1}, s.ids());
    }

    @Test
    void topKMatchesAnUngroupedUnbiasedRouterAsASet() {
        RoutingConfig c = RoutingConfig.builder().experts(16).groups(1).topkGroups(1).topk(4)
                .scoreFunction(ScoreFunction.SIGMOID).normalize(true).build();
        double[] zd = LossFixtures.randomLogits(7, 40, 16, 1.0);
        float[] z = new float[zd.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) zd[i];
        }
        RoutingResult r = Routers.reference(c).route(z, null);
        ExpertSelection s = ExpertSelection.topK(AuxLosses.widen(z), 40, 16, 4);
        for (int t = 0; t < 40; t++) {
            int[] a = Arrays.copyOfRange(r.ids(), t * 4, t * 4 + 4);
            int[] b = Arrays.copyOfRange(s.ids(), t * 4, t * 4 + 4);
            Arrays.sort(a);
            Arrays.sort(b);
            assertArrayEquals(a, b, "token " + t);
        }
        assertArrayEquals(r.expertLoad(), s.counts());
    }

    @Test
    void fractionsCountsAndSlices() {
        ExpertSelection s = new ExpertSelection(3, 4, 2, new int[] {0, 1, 0, -1, 3, 0});
        assertArrayEquals(new long[] {3, 1, 0, 1}, s.counts());
        // N/(K·T) = 4/6.
        assertArrayEquals(new double[] {2.0, 4.0 / 6, 0.0, 4.0 / 6}, s.expertFractions(), 1e-15);
        ExpertSelection tail = s.slice(1, 3);
        assertEquals(new ExpertSelection(2, 4, 2, new int[] {0, -1, 3, 0}), tail);
        assertEquals(-1, tail.id(0, 1));
        assertArrayEquals(new double[4], new ExpertSelection(0, 4, 2, new int[0]).expertFractions(), 0.0);
    }

    @Test
    void idsAreCopiedInAndOut() {
        int[] ids = {0, 1};
        ExpertSelection s = new ExpertSelection(1, 2, 2, ids);
        ids[0] = 1;
        s.ids()[1] = 0;
        assertArrayEquals(new int[] {0, 1}, s.ids());
    }

    @Test
    void rejectsMalformedSelections() {
        assertThrows(IllegalArgumentException.class, () -> new ExpertSelection(1, 4, 2, new int[] {2, 2}));
        assertThrows(IllegalArgumentException.class, () -> new ExpertSelection(1, 4, 2, new int[] {0, 4}));
        assertThrows(IllegalArgumentException.class, () -> new ExpertSelection(1, 4, 2, new int[] {0, -2}));
        assertThrows(IllegalArgumentException.class, () -> new ExpertSelection(2, 4, 2, new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new ExpertSelection(1, 2, 3, new int[] {0, 1, -1}));
        assertThrows(IllegalArgumentException.class, () -> ExpertSelection.topK(new double[5], 1, 4, 2));
        // Two dropped (−1) choices in one token are fine.
        new ExpertSelection(1, 4, 3, new int[] {-1, 2, -1});
    }
}
