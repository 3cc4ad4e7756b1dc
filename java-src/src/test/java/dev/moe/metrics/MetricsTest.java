package dev.moe.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.SyntheticLogits;
import dev.moe.topology.Topology;

class MetricsTest {

    @Test
    void maxVioWorkedExampleAndEmptyBatch() {  // docs/specification.md §e.5, §k #10
        assertEquals(2.0 / 3, LoadMetrics.maxVio(new long[] {10, 6, 4, 4}), 1e-12);
        assertEquals(0.0, LoadMetrics.maxVio(new long[] {0, 0, 0}));
        assertEquals(0.0, LoadMetrics.maxVio(new long[] {5, 5}));
        assertEquals((2.0 / 3 + 1.0) / 2, LoadMetrics.maxVio(new long[][] {{10, 6, 4, 4}, {2, 0}, {0, 0}}), 1e-12);
        assertArrayEquals(new double[] {10 / 6.0, 1, 4 / 6.0, 4 / 6.0}, LoadMetrics.relative(new long[] {10, 6, 4, 4}), 1e-12);
    }

    @Test
    void maxVioPerComputationBatch() {  // [LF] §5.1
        // K = 1, N = 2: batches of 2 tokens: (0,0) -> MaxVio 1, (0,1) -> 0, (1,-1) -> load (0,1) -> 1; tail token ignored.
        int[] ids = {0, 0, 0, 1, 1, -1, 0};
        assertEquals(2.0 / 3, LoadMetrics.maxVioPerBatch(ids, 1, 2, 2), 1e-12);
        assertEquals(0.2, LoadMetrics.maxVioPerBatch(ids, 1, 2, 6), 1e-12);
        assertEquals(0.0, LoadMetrics.maxVioPerBatch(ids, 1, 2, 8));
        assertThrows(IllegalArgumentException.class, () -> LoadMetrics.maxVioPerBatch(ids, 1, 2, 0));
    }

    @Test
    void crossNodeSendsCountOneCopyPerDestinationNode() {
        // 2 nodes x 1 GPU, 4 experts: experts 0,1 on node 0; 2,3 on node 1. K = 3.
        Topology topo = Topology.contiguous(2, 1, 4);
        int[] ids = {
            0, 1, 2,    // token 0 (home node 0): nodes {0,1} -> one cross-node copy, although 1 expert there
            2, 3, 0,    // token 1 (home node 1): nodes {1,0} -> one copy
            2, 3, -1,   // token 2 (home node 0): node 1 only (a dropped slot) -> one copy
            0, 1, -1};  // token 3 (home node 1): node 0 -> one copy
        DispatchStats d = DispatchStats.of(MemorySegment.ofArray(ids), 4, 3, topo);
        assertEquals(4, d.crossNodeSends());
        assertArrayEquals(new long[] {0, 2, 2}, d.nodesPerToken());
        assertArrayEquals(new long[] {5, 5}, d.nodeLoad());
        assertEquals(1.5, d.meanNodesPerToken(), 1e-12);
        assertEquals(2, d.maxNodesPerToken());
    }

    @Test
    void intraNodeForwardsCountGpusOtherThanTheArrivalGpu() {
        // 2 nodes x 2 GPUs, 8 experts: GPU g holds experts 2g, 2g+1. K = 3.
        Topology topo = Topology.contiguous(2, 2, 8);
        int[] ids = {
            0, 1, 2,    // token 0 on GPU 0: GPU 0 (home, no forward), GPU 1 (forward) -> 1
            4, 6, 7,    // token 1 on GPU 1 (lane 1): lands on GPU 3 of node 1; GPU 2 forward, GPU 3 not -> 1
            5, 4, -1};  // token 2 on GPU 2 (lane 0): node 1, arrives GPU 2 (its home), expert on GPU 2 -> 0
        DispatchStats d = DispatchStats.of(MemorySegment.ofArray(ids), 3, 3, topo);
        assertEquals(2, d.intraNodeForwards());
        assertEquals(1, d.crossNodeSends());  // token 1 goes to node 1 from node 0
        // The same tokens as a shard starting at global token 1: token 0 is now on GPU 1 (lane 1).
        DispatchStats shifted = DispatchStats.of(MemorySegment.ofArray(java.util.Arrays.copyOf(ids, 3)), 1, 3, topo, 1);
        assertEquals(1, shifted.intraNodeForwards());  // arrives GPU 1: GPU 0 forwarded, GPU 1 home
        assertEquals(0, shifted.crossNodeSends());     // all three experts are on node 0
    }

    @Test
    void v3RoutingNeverReachesMoreThanFourNodes() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        Topology topo = Topology.contiguous(8, 8, 256);
        float[] b = new float[256];
        for (int i = 0; i < 256; i++) {
            b[i] = (i % 5 - 2) * 0.3f;  // a large bias must not break the node limit either
        }
        RoutingResult r = Routers.reference(c).route(SyntheticLogits.generate(2000, 256, 1.5f, 4), b);
        DispatchStats d = DispatchStats.of(MemorySegment.ofArray(r.ids()), 2000, 8, topo);
        assertTrue(d.maxNodesPerToken() <= 4, "reached " + d.maxNodesPerToken());
        for (int j = 5; j < d.nodesPerToken().length; j++) {
            assertEquals(0, d.nodesPerToken()[j]);
        }
        assertEquals(2000, java.util.Arrays.stream(d.nodesPerToken()).sum());
    }

    @Test
    void aBatchCountsAsTheSumOfItsShards() {
        // 5000 tokens span several of the chunks the counting reads at a time; shards cut them elsewhere.
        Topology topo = Topology.contiguous(4, 2, 64);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(8);
        int k = 6;
        int tokens = 5000;
        int[] ids = new int[tokens * k];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(10) == 0 ? -1 : rnd.nextInt(64);
        }
        DispatchStats all = DispatchStats.of(MemorySegment.ofArray(ids), tokens, k, topo);
        long[] gpu = new long[topo.gpus()];
        long[] node = new long[topo.nodes()];
        long[] hist = new long[topo.nodes() + 1];
        long cross = 0;
        long forwards = 0;
        int[] cuts = {0, 1, 1234, 2731, 5000};
        for (int s = 0; s + 1 < cuts.length; s++) {
            int[] part = java.util.Arrays.copyOfRange(ids, cuts[s] * k, cuts[s + 1] * k);
            DispatchStats d = DispatchStats.of(MemorySegment.ofArray(part), cuts[s + 1] - cuts[s], k, topo, cuts[s]);
            java.util.Arrays.setAll(gpu, i -> gpu[i] + d.gpuLoad()[i]);
            java.util.Arrays.setAll(node, i -> node[i] + d.nodeLoad()[i]);
            java.util.Arrays.setAll(hist, i -> hist[i] + d.nodesPerToken()[i]);
            cross += d.crossNodeSends();
            forwards += d.intraNodeForwards();
        }
        assertArrayEquals(gpu, all.gpuLoad());
        assertArrayEquals(node, all.nodeLoad());
        assertArrayEquals(hist, all.nodesPerToken());
        assertEquals(cross, all.crossNodeSends());
        assertEquals(forwards, all.intraNodeForwards());
        assertTrue(cross > 0 && forwards > 0, "the data exercises both kinds of copy");
    }

    @Test
    void gpuMasksAndStampsCountTheSame() {
        // Up to 64 GPUs the counts come from per-token bit masks; the stamp path is the general one.
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(21);
        int[] explicit = new int[48];
        for (int e = 0; e < explicit.length; e++) {
            explicit[e] = rnd.nextInt(12);
        }
        Topology[] topologies = {Topology.contiguous(8, 8, 256), Topology.contiguous(4, 2, 64), Topology.contiguous(3, 5, 30),
                Topology.contiguous(64, 1, 128), Topology.explicit(3, 4, explicit)};
        for (Topology topo : topologies) {
            int k = 1 + rnd.nextInt(9);
            int tokens = 3000;
            int[] ids = new int[tokens * k];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rnd.nextInt(8) == 0 ? -1 : rnd.nextInt(topo.numExperts());
            }
            long first = rnd.nextInt(1000);
            DispatchStats masks = DispatchStats.of(MemorySegment.ofArray(ids), tokens, k, topo, first, true);
            DispatchStats stamps = DispatchStats.of(MemorySegment.ofArray(ids), tokens, k, topo, first, false);
            String what = topo + ", K=" + k;
            assertArrayEquals(stamps.gpuLoad(), masks.gpuLoad(), what);
            assertArrayEquals(stamps.nodeLoad(), masks.nodeLoad(), what);
            assertArrayEquals(stamps.nodesPerToken(), masks.nodesPerToken(), what);
            assertEquals(stamps.crossNodeSends(), masks.crossNodeSends(), what);
            assertEquals(stamps.intraNodeForwards(), masks.intraNodeForwards(), what);
            assertTrue(masks.crossNodeSends() > 0 || topo.nodes() == 1, what);
        }
    }
}
