package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.moe.backend.Backend;
import dev.moe.dist.Communicator;
import dev.moe.dist.LocalGroup;
import dev.moe.dist.SelfCommunicator;
import dev.moe.routing.RoutingConfig;
import dev.moe.topology.Topology;

/** Expert parallelism on an in-process group of threads, against the single-process layer. */
class ExpertParallelMoeLayerTest {
    static final int H = 256;
    static final RoutingConfig CONFIG = RoutingConfig.builder().experts(16).groups(4).topkGroups(2).topk(4).build();

    /** Each rank's tokens: a different count per rank (rank 3 of 4 gets none when {@code emptyRank}). */
    static int[] tokensPerRank(int ranks, boolean emptyRank) {
        int[] t = new int[ranks];
        for (int r = 0; r < ranks; r++) {
            t[r] = emptyRank && r == ranks - 1 ? 0 : 9 + 5 * r;
        }
        return t;
    }

    record RankOut(float[] y, ExpertParallelMoeLayer.Traffic traffic) {}

    static List<RankOut> runDistributed(MoeLayerWeights w, Backend backend, Topology topo, ExpertParallelMoeLayer.Combine combine,
                                        float[] x, int[] tokens) throws Exception {
        int ranks = tokens.length;
        List<Communicator> group = LocalGroup.create(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<RankOut>> fs = new ArrayList<>();
            int from = 0;
            for (int r = 0; r < ranks; r++) {
                float[] mine = Arrays.copyOfRange(x, from * H, (from + tokens[r]) * H);
                from += tokens[r];
                Communicator c = group.get(r);
                int t = tokens[r];
                fs.add(pool.submit(() -> {
                    ExpertParallelMoeLayer.Output o = ExpertParallelMoeLayer.create(w, backend, c, topo, combine).forward(mine, t);
                    return new RankOut(o.hidden(), o.traffic());
                }));
            }
            List<RankOut> out = new ArrayList<>();
            for (Future<RankOut> f : fs) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    throw (Exception) e.getCause();
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[] concat(List<RankOut> outs) {
        int len = outs.stream().mapToInt(o -> o.y().length).sum();
        float[] all = new float[len];
        int at = 0;
        for (RankOut o : outs) {
            System.arraycopy(o.y(), 0, all, at, o.y().length);
            at += o.y().length;
        }
        return all;
    }

    @ParameterizedTest(name = "{0} nodes x {1} ranks, {2}")
    @CsvSource({"4, 1, java", "2, 2, java", "1, 4, java", "2, 2, cpu"})
    void exactCombineEqualsTheSingleProcessLayerBitForBit(int nodes, int perNode, String backend) throws Exception {
        MoeLayerWeights w = MoeLayerWeights.synthetic(CONFIG, H, 128, true, 11);
        int[] tokens = tokensPerRank(nodes * perNode, true);
        int total = Arrays.stream(tokens).sum();
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(5), total * H, 1.0);
        Backend be = Backend.parse(backend);
        float[] want = MoeLayer.create(w, be).forward(x, total);
        Topology topo = Topology.contiguous(nodes, perNode, 16);
        List<RankOut> outs = runDistributed(w, be, topo, ExpertParallelMoeLayer.Combine.EXACT, x, tokens);
        assertArrayEquals(want, concat(outs));

        // Token conservation: every routed assignment computed once, somewhere.
        long routed = outs.stream().mapToLong(o -> o.traffic().assignmentsRouted()).sum();
        long computed = outs.stream().mapToLong(o -> o.traffic().assignmentsComputed()).sum();
        assertEquals((long) total * CONFIG.topk(), routed);
        assertEquals(routed, computed);
        long inter = outs.stream().mapToLong(o -> o.traffic().dispatchBytesInterNode()).sum();
        long intra = outs.stream().mapToLong(o -> o.traffic().dispatchBytesIntraNode()).sum();
        assertEquals(nodes > 1, inter > 0);
        assertEquals(perNode > 1, intra > 0);
    }

    @Test
    void reducedCombinesAgreeWithinTheirPrecision() throws Exception {
        MoeLayerWeights w = MoeLayerWeights.synthetic(CONFIG, H, 128, false, 12);
        int[] tokens = tokensPerRank(4, false);
        int total = Arrays.stream(tokens).sum();
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(6), total * H, 1.0);
        float[] want = MoeLayer.create(w, Backend.JAVA).forward(x, total);
        Topology topo = Topology.contiguous(2, 2, 16);
        float[] fp32 = concat(runDistributed(w, Backend.JAVA, topo, ExpertParallelMoeLayer.Combine.REDUCED_FP32, x, tokens));
        float[] bf16 = concat(runDistributed(w, Backend.JAVA, topo, ExpertParallelMoeLayer.Combine.REDUCED_BF16, x, tokens));
        double scale = Arrays.stream(toDouble(want)).map(Math::abs).max().orElse(1);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], fp32[i], 1e-5 * scale, "fp32 element " + i);
            assertEquals(want[i], bf16[i], 2e-2 * scale, "bf16 element " + i);
        }
        // BF16 really rounds (the test could not tell the modes apart otherwise).
        assertTrue(!Arrays.equals(fp32, bf16));
    }

    @Test
    void combineBytesShrinkWhenReduced() throws Exception {
        MoeLayerWeights w = MoeLayerWeights.synthetic(CONFIG, H, 128, false, 13);
        int[] tokens = tokensPerRank(4, false);
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(7), Arrays.stream(tokens).sum() * H, 1.0);
        Topology topo = Topology.contiguous(4, 1, 16);
        long exact = runDistributed(w, Backend.JAVA, topo, ExpertParallelMoeLayer.Combine.EXACT, x, tokens).stream()
                .mapToLong(o -> o.traffic().combineBytesInterNode()).sum();
        long bf16 = runDistributed(w, Backend.JAVA, topo, ExpertParallelMoeLayer.Combine.REDUCED_BF16, x, tokens).stream()
                .mapToLong(o -> o.traffic().combineBytesInterNode()).sum();
        assertTrue(bf16 * 2 <= exact, bf16 + " vs " + exact);
    }

    @Test
    void anEplbPlacementGivesTheSameOutputAndIsUsed() throws Exception {
        float[][] loads = {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86, 12, 140, 77, 20}};
        var plan = dev.moe.eplb.Eplb.rebalance(loads, 16, 4, 2, 4);
        Topology topo = Topology.fromEplb(plan, 0, 2, 2);
        assertTrue(!Arrays.equals(java.util.stream.IntStream.range(0, 16).map(topo::gpuOf).toArray(),
                java.util.stream.IntStream.range(0, 16).map(Topology.contiguous(2, 2, 16)::gpuOf).toArray()),
                "the plan should move experts");
        MoeLayerWeights w = MoeLayerWeights.synthetic(CONFIG, H, 128, true, 14);
        int[] tokens = tokensPerRank(4, false);
        int total = Arrays.stream(tokens).sum();
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(8), total * H, 1.0);
        float[] want = MoeLayer.create(w, Backend.JAVA).forward(x, total);
        assertArrayEquals(want, concat(runDistributed(w, Backend.JAVA, topo, ExpertParallelMoeLayer.Combine.EXACT, x, tokens)));
        var redundant = dev.moe.eplb.Eplb.rebalance(loads, 20, 4, 2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Topology.fromEplb(redundant, 0, 2, 2));
        assertTrue(e.getMessage().contains("redundant"), e.getMessage());
    }

    @Test
    void aPlacementThatDoesNotMatchTheJobIsRefused() {
        MoeLayerWeights w = MoeLayerWeights.synthetic(CONFIG, H, 128, false, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExpertParallelMoeLayer.create(w,
                Backend.JAVA, new SelfCommunicator(), Topology.contiguous(2, 2, 16), ExpertParallelMoeLayer.Combine.EXACT));
        assertTrue(e.getMessage().contains("4 GPUs but the job has 1 ranks"), e.getMessage());
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
