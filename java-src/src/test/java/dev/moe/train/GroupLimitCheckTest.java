package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.routing.GateStats;
import dev.moe.routing.Router;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;

/** The MoE feed-forward refuses a routing that breaks the group limit, whatever router produced it. */
class GroupLimitCheckTest {
    @Test
    void aRoutingOverTheLimitStopsTraining() {
        TransformerConfig c = new TransformerConfig(1, 8, 2, 4, 8, 4, 1, 2, 0, 8, "deepseek-v3");
        RoutingConfig rc = c.routing();
        Router broken = new Router() {
            @Override
            public RoutingConfig config() {
                return rc;
            }

            @Override
            public Backend backend() {
                return Backend.JAVA;
            }

            @Override
            public GateStats route(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                   MemorySegment outWeights, MemorySegment expertLoad) {
                throw new UnsupportedOperationException();
            }

            @Override
            public RoutingResult route(float[] logits, float[] bias) {
                int t = logits.length / rc.numExperts();
                int[] ids = new int[t * 2];
                float[] w = new float[t * 2];
                for (int i = 0; i < t; i++) {
                    ids[2 * i] = 0;      // group 0
                    ids[2 * i + 1] = 7;  // group 3: two groups with M = 1
                }
                return new RoutingResult(t, 2, ids, w, new long[rc.numExperts()], new GateStats(t, 0));
            }
        };
        MoeFeedForward ffn = new MoeFeedForward(c, broken, new JavaGemm(), Projections.fp32(new JavaGemm()));
        ParameterLayout layout = new ParameterLayout(c);
        float[] u = new float[4 * 8];
        var e = assertThrows(IllegalStateException.class, () -> ffn.forward(u, 4, new float[layout.size()], layout.block(0),
                null, null, 1, new MoeFeedForward.Saved(4, c), new float[4 * 8]));
        assertTrue(e.getMessage().contains("over the limit of 1"), e.getMessage());
    }
}
