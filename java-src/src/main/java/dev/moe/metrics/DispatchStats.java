package dev.moe.metrics;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.topology.Topology;

/**
 * What dispatching one routed batch costs on a topology: per-node and per-GPU loads, how many nodes
 * each token reaches, and cross-node sends counted as DeepSeek's dispatch sends them — one copy of a
 * token per destination node other than its own, however many experts it uses there (docs/specification.md §d.2).
 * A copy lands on the GPU of the token's in-node index on each node and is forwarded inside the node
 * (NVLink) to every other GPU there that holds one of its experts: those are the intra-node forwards.
 * Ids equal to −1 (dropped assignments) are skipped.
 *
 * @param gpuLoad            assignments per GPU
 * @param nodeLoad           assignments per node
 * @param nodesPerToken      histogram: nodesPerToken[j] = tokens that reach exactly j nodes
 * @param crossNodeSends     token copies sent to another node
 * @param intraNodeForwards  token copies forwarded from the arrival GPU to another GPU of the same node
 * @param tokens             tokens in the batch
 */
public record DispatchStats(long[] gpuLoad, long[] nodeLoad, long[] nodesPerToken, long crossNodeSends,
                            long intraNodeForwards, long tokens) {

    /**
     * Dispatch statistics of a routed batch; token t starts on GPU {@code t mod gpus} (tokens spread
     * round-robin over the data-parallel ranks).
     *
     * @param ids      int [T, K] row-major expert ids (−1 for a dropped assignment), heap or native
     * @param tokens   T
     * @param k        K, choices per token
     * @param topology where the experts live
     * @return the statistics
     * @throws IndexOutOfBoundsException if {@code ids} holds fewer than T·K ints or an id is outside the topology
     */
    public static DispatchStats of(MemorySegment ids, long tokens, int k, Topology topology) {
        return of(ids, tokens, k, topology, 0);
    }

    /**
     * As {@link #of(MemorySegment, long, int, Topology)} for a shard of a batch whose first token has
     * index {@code firstToken} in the whole batch (token t starts on GPU {@code (firstToken + t) mod gpus}).
     *
     * @param ids        int [T, K] row-major expert ids of the shard (−1 for a dropped assignment)
     * @param tokens     T, tokens in the shard
     * @param k          K, choices per token
     * @param topology   where the experts live
     * @param firstToken index of the shard's first token in the whole batch
     * @return the statistics of the shard
     * @throws IndexOutOfBoundsException if {@code ids} holds fewer than T·K ints or an id is outside the topology
     */
    public static DispatchStats of(MemorySegment ids, long tokens, int k, Topology topology, long firstToken) {
        long[] gpuLoad = new long[topology.gpus()];
        long[] nodeLoad = new long[topology.nodes()];
        long[] hist = new long[topology.nodes() + 1];
        long cross = 0;
        long forwards = 0;
        long[] seen = new long[topology.nodes()];  // seen[node] == t + 1 if token t already reached it
        long[] seenGpu = new long[topology.gpus()];
        int perNode = topology.gpusPerNode();
        for (long t = 0; t < tokens; t++) {
            int homeGpu = (int) ((firstToken + t) % topology.gpus());
            int home = topology.nodeOfGpu(homeGpu);
            int lane = homeGpu % perNode;
            int reached = 0;
            for (int q = 0; q < k; q++) {
                int e = ids.getAtIndex(ValueLayout.JAVA_INT, t * k + q);
                if (e < 0) {
                    continue;
                }
                int gpu = topology.gpuOf(e);
                int node = topology.nodeOfGpu(gpu);
                gpuLoad[gpu]++;
                nodeLoad[node]++;
                if (seenGpu[gpu] != t + 1) {
                    seenGpu[gpu] = t + 1;
                    if (gpu != node * perNode + lane) {
                        forwards++;
                    }
                }
                if (seen[node] != t + 1) {
                    seen[node] = t + 1;
                    reached++;
                    if (node != home) {
                        cross++;
                    }
                }
            }
            hist[reached]++;
        }
        return new DispatchStats(gpuLoad, nodeLoad, hist, cross, forwards, tokens);
    }

    /** {@return the mean number of nodes a token reaches (0 for an empty batch)} */
    public double meanNodesPerToken() {
        if (tokens == 0) {
            return 0.0;
        }
        long acc = 0;
        for (int j = 0; j < nodesPerToken.length; j++) {
            acc += j * nodesPerToken[j];
        }
        return (double) acc / tokens;
    }

    /** {@return the largest number of nodes any token reached} */
    public int maxNodesPerToken() {
        for (int j = nodesPerToken.length - 1; j > 0; j--) {
            if (nodesPerToken[j] > 0) {
                return j;
            }
        }
        return 0;
    }
}
