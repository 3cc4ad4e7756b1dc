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
    /** Ids read per chunk (64 KiB). */
    private static final int CHUNK_IDS = 1 << 14;

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
        return of(ids, tokens, k, topology, firstToken, topology.gpus() <= Long.SIZE);
    }

    /**
     * The statistics counted either with one 64-bit mask of GPUs (and one of nodes) per token, possible up to
     * 64 GPUs, or with per-GPU and per-node stamps; both give the same result (tested against each other).
     */
    static DispatchStats of(MemorySegment ids, long tokens, int k, Topology topology, long firstToken, boolean masks) {
        Counts c = new Counts(topology, firstToken);
        // The ids are read in chunks into a heap array: a counted int loop the JIT compiles tightly.
        int chunk = (int) Math.max(1, Math.min(tokens, CHUNK_IDS / Math.max(k, 1)));
        int[] buf = new int[chunk * k];
        for (long t0 = 0; t0 < tokens; t0 += chunk) {
            int count = (int) Math.min(chunk, tokens - t0);
            MemorySegment.copy(ids, ValueLayout.JAVA_INT, t0 * k * Integer.BYTES, buf, 0, count * k);
            if (masks) {
                c.addWithMasks(buf, count, k);
            } else {
                c.addWithStamps(buf, count, k, t0);
            }
        }
        long[] gpuLoad = new long[topology.gpus()];
        long[] nodeLoad = new long[topology.nodes()];
        for (int e = 0; e < c.expertLoad.length; e++) {
            gpuLoad[c.gpuOf[e]] += c.expertLoad[e];
            nodeLoad[c.nodeOf[e]] += c.expertLoad[e];
        }
        return new DispatchStats(gpuLoad, nodeLoad, c.hist, c.cross, c.forwards, tokens);
    }

    /** The running counts of {@link #of}: per expert, the histogram of nodes reached, sends and forwards. */
    private static final class Counts {
        final long[] expertLoad;
        final long[] hist;
        long cross;
        long forwards;
        final Topology topology;
        final int[] nodeOf;   // each expert's node and GPU as tables: the loops run T·K times and must not divide
        final int[] gpuOf;
        final int perNode;
        final int gpus;
        final long arrivalSpread;  // bit x·perNode for every node x: where node bits land under Long.expand
        final long[] seen;         // the stamp path: seen[x] == stamp when the token already reached node / GPU x
        final long[] seenGpu;
        int homeGpu;               // the GPU the next token starts on

        Counts(Topology topology, long firstToken) {
            this.topology = topology;
            int n = topology.numExperts();
            expertLoad = new long[n];
            hist = new long[topology.nodes() + 1];
            nodeOf = new int[n];
            gpuOf = new int[n];
            for (int e = 0; e < n; e++) {
                nodeOf[e] = topology.nodeOf(e);
                gpuOf[e] = topology.gpuOf(e);
            }
            perNode = topology.gpusPerNode();
            gpus = topology.gpus();
            long spread = 0;
            for (int x = 0; x < topology.nodes() && (long) x * perNode < Long.SIZE; x++) {
                spread |= 1L << (x * perNode);
            }
            arrivalSpread = spread;
            seen = new long[topology.nodes()];
            seenGpu = new long[gpus];
            homeGpu = (int) (firstToken % gpus);
        }

        /**
         * Up to 64 GPUs: the token's GPUs and nodes as bit masks. A copy lands on node x's GPU
         * x·perNode + lane, so the arrival GPUs are the node mask spread to every perNode-th bit, shifted by the lane.
         */
        void addWithMasks(int[] buf, int count, int k) {
            for (int i = 0; i < count; i++) {
                long gpuMask = 0;
                long nodeMask = 0;
                for (int q = i * k; q < (i + 1) * k; q++) {
                    int e = buf[q];
                    if (e < 0) {
                        continue;
                    }
                    expertLoad[e]++;
                    gpuMask |= 1L << gpuOf[e];
                    nodeMask |= 1L << nodeOf[e];
                }
                int home = topology.nodeOfGpu(homeGpu);
                int lane = homeGpu - home * perNode;  // a copy for node x lands on its GPU x·perNode + lane
                int reached = Long.bitCount(nodeMask);
                hist[reached]++;
                cross += reached - (int) ((nodeMask >>> home) & 1L);
                forwards += Long.bitCount(gpuMask & ~(Long.expand(nodeMask, arrivalSpread) << lane));
                homeGpu = homeGpu + 1 == gpus ? 0 : homeGpu + 1;
            }
        }

        /** Any number of GPUs: per-node and per-GPU stamps of the last token that reached them. */
        void addWithStamps(int[] buf, int count, int k, long t0) {
            for (int i = 0; i < count; i++) {
                long stamp = t0 + i + 1;
                int home = topology.nodeOfGpu(homeGpu);
                int lane = homeGpu - home * perNode;  // a copy for node x lands on its GPU x·perNode + lane
                int reached = 0;
                for (int q = i * k; q < (i + 1) * k; q++) {
                    int e = buf[q];
                    if (e < 0) {
                        continue;
                    }
                    int node = nodeOf[e];
                    int gpu = gpuOf[e];
                    expertLoad[e]++;
                    // Without branches: whether a GPU or node is new to this token is data, not a jump to predict.
                    int newGpu = seenGpu[gpu] != stamp ? 1 : 0;
                    seenGpu[gpu] = stamp;
                    forwards += gpu != node * perNode + lane ? newGpu : 0;
                    int newNode = seen[node] != stamp ? 1 : 0;
                    seen[node] = stamp;
                    reached += newNode;
                    cross += node != home ? newNode : 0;
                }
                hist[reached]++;
                homeGpu = homeGpu + 1 == gpus ? 0 : homeGpu + 1;
            }
        }
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
