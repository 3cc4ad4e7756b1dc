package dev.moe.eplb;

import java.util.Arrays;

/**
 * DeepSeek's expert-parallel load balancer (EPLB, docs/specification.md §j): replicate heavy experts and pack the
 * replicas onto GPUs so that GPU loads even out, keeping each group's experts on one node when the
 * groups divide evenly over the nodes (hierarchical policy), else treating the cluster as one node
 * (global policy). All arithmetic is FP32, per layer.
 *
 * <p>Tie rule (the reference's descending sort is not stable): items of equal weight are taken in
 * ascending index order, and among equally loaded packs / equally heavy experts the lower index wins.
 */
public final class Eplb {
    private Eplb() {}

    /**
     * Plans the placement.
     *
     * @param weight      [L][N] estimated load of each logical expert per layer (finite, &ge; 0)
     * @param numReplicas R physical expert slots, a multiple of P and &ge; N
     * @param numGroups   G expert groups, dividing N
     * @param numNodes    nodes, dividing P
     * @param numGpus     P GPUs
     * @return the plan, with R/P slots per GPU
     * @throws IllegalArgumentException if the loads are empty, ragged, negative or not finite, or the
     *         counts do not divide as required (for the hierarchical policy N and R must also be
     *         multiples of the node count)
     */
    public static ExpertPlacementPlan rebalance(float[][] weight, int numReplicas, int numGroups, int numNodes, int numGpus) {
        validate(weight, numReplicas, numGroups, numNodes, numGpus);
        boolean hierarchical = numGroups % numNodes == 0;
        int layers = weight.length;
        int n = weight[0].length;
        int[][] phy2log = new int[layers][];
        int[][] rank = new int[layers][];
        int[][] logcnt = new int[layers][];
        for (int l = 0; l < layers; l++) {
            int[][] r = hierarchical ? hierarchical(weight[l], numReplicas, numGroups, numNodes, numGpus)
                    : hierarchical(weight[l], numReplicas, 1, 1, numGpus);
            phy2log[l] = r[0];
            rank[l] = r[1];
            logcnt[l] = r[2];
        }
        int maxcnt = numReplicas - n + 1;
        int[][][] log2phy = new int[layers][n][maxcnt];
        for (int l = 0; l < layers; l++) {
            for (int[] row : log2phy[l]) {
                Arrays.fill(row, -1);
            }
            for (int p = 0; p < numReplicas; p++) {
                log2phy[l][phy2log[l][p]][rank[l][p]] = p;
            }
        }
        return new ExpertPlacementPlan(phy2log, log2phy, logcnt);
    }

    /**
     * Whether {@link #rebalance} uses the hierarchical policy for these arguments.
     *
     * @param numGroups G expert groups
     * @param numNodes  nodes
     * @return true when G is a multiple of the node count
     */
    public static boolean isHierarchical(int numGroups, int numNodes) {
        return numGroups % numNodes == 0;
    }

    /** One layer: returns {phy2log[R], rank[R], logcnt[N]}. */
    private static int[][] hierarchical(float[] w, int numPhy, int numGroups, int numNodes, int numGpus) {
        int n = w.length;
        int groupSize = n / numGroups;
        int groupsPerNode = numGroups / numNodes;
        int perGpu = numPhy / numGpus;
        int logPerNode = n / numNodes;
        int phyPerNode = numPhy / numNodes;
        int gpusPerNode = numGpus / numNodes;

        // 1. Pack groups onto nodes by total group load.
        float[] groupLoad = new float[numGroups];
        for (int g = 0; g < numGroups; g++) {
            float acc = 0f;
            for (int j = 0; j < groupSize; j++) {
                acc += w[g * groupSize + j];
            }
            groupLoad[g] = acc;
        }
        int[][] groupPack = balancedPacking(groupLoad, numNodes);
        // 2. "Middle logical" ids: node-major, then the group's rank in its node, then the offset.
        int[] log2mlog = new int[n];
        int[] mlog2log = new int[n];
        for (int e = 0; e < n; e++) {
            int g = e / groupSize;
            int m = (groupPack[0][g] * groupsPerNode + groupPack[1][g]) * groupSize + e % groupSize;
            log2mlog[e] = m;
            mlog2log[m] = e;
        }
        int[] phy2log = new int[numPhy];
        int[] rank = new int[numPhy];
        int[] logcnt = new int[n];
        for (int node = 0; node < numNodes; node++) {
            // 3. Replicate the node's experts into its share of the physical slots.
            float[] nodeLoad = new float[logPerNode];
            for (int j = 0; j < logPerNode; j++) {
                nodeLoad[j] = w[mlog2log[node * logPerNode + j]];
            }
            int[][] rep = replicateExperts(nodeLoad, phyPerNode);
            int[] phy2mlog = rep[0];
            int[] phyRank = rep[1];
            int[] cnt = rep[2];
            // 4. Pack the replicas (load / replica count) onto the node's GPUs.
            float[] replicaLoad = new float[phyPerNode];
            for (int p = 0; p < phyPerNode; p++) {
                replicaLoad[p] = nodeLoad[phy2mlog[p]] / (float) cnt[phy2mlog[p]];
            }
            int[][] gpuPack = balancedPacking(replicaLoad, gpusPerNode);
            // 5. Compose: packed slot -> replica -> middle logical -> logical.
            for (int p = 0; p < phyPerNode; p++) {
                int packed = node * phyPerNode + gpuPack[0][p] * perGpu + gpuPack[1][p];
                phy2log[packed] = mlog2log[node * logPerNode + phy2mlog[p]];
                rank[packed] = phyRank[p];
            }
            for (int j = 0; j < logPerNode; j++) {
                logcnt[mlog2log[node * logPerNode + j]] = cnt[j];
            }
        }
        return new int[][] {phy2log, rank, logcnt};
    }

    /**
     * Packs n weighted items into m packs of exactly n/m items each, heaviest first, each into the
     * lightest pack that still has room. Returns {pack[n], rankInPack[n]}.
     */
    static int[][] balancedPacking(float[] w, int m) {
        int n = w.length;
        int per = n / m;
        int[] pack = new int[n];
        int[] rankInPack = new int[n];
        if (per == 1) {
            for (int i = 0; i < n; i++) {
                pack[i] = i;
            }
            return new int[][] {pack, rankInPack};
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(w[b], w[a]));  // stable: equal weights keep index order
        float[] packWeight = new float[m];
        int[] packItems = new int[m];
        for (int item : order) {
            int best = -1;
            for (int p = 0; p < m; p++) {
                if (packItems[p] < per && (best < 0 || packWeight[p] < packWeight[best])) {
                    best = p;
                }
            }
            pack[item] = best;
            rankInPack[item] = packItems[best];
            packWeight[best] += w[item];
            packItems[best]++;
        }
        return new int[][] {pack, rankInPack};
    }

    /**
     * Greedy min-max replication: slot i &lt; n holds expert i; each further slot goes to the expert
     * with the largest load per replica. Returns {phy2log[nPhy], rank[nPhy], count[n]}.
     */
    static int[][] replicateExperts(float[] w, int nPhy) {
        int n = w.length;
        int[] phy2log = new int[nPhy];
        int[] rank = new int[nPhy];
        int[] cnt = new int[n];
        for (int i = 0; i < n; i++) {
            phy2log[i] = i;
            cnt[i] = 1;
        }
        for (int i = n; i < nPhy; i++) {
            int best = 0;
            float bestLoad = w[0] / (float) cnt[0];
            for (int j = 1; j < n; j++) {
                float v = w[j] / (float) cnt[j];
                if (v > bestLoad) {
                    best = j;
                    bestLoad = v;
                }
            }
            phy2log[i] = best;
            rank[i] = cnt[best];
            cnt[best]++;
        }
        return new int[][] {phy2log, rank, cnt};
    }

    private static void validate(float[][] weight, int numReplicas, int numGroups, int numNodes, int numGpus) {
        if (weight.length < 1 || weight[0].length < 1) {
            throw new IllegalArgumentException("loads must have at least one layer and one expert");
        }
        int n = weight[0].length;
        for (int l = 0; l < weight.length; l++) {
            if (weight[l].length != n) {
                throw new IllegalArgumentException("layer " + l + " has " + weight[l].length + " experts, layer 0 has " + n);
            }
            for (int e = 0; e < n; e++) {
                if (!Float.isFinite(weight[l][e]) || weight[l][e] < 0) {
                    throw new IllegalArgumentException("load of layer " + l + ", expert " + e + " is " + weight[l][e]
                            + "; loads must be finite and >= 0");
                }
            }
        }
        if (numGroups < 1 || numNodes < 1 || numGpus < 1 || numReplicas < 1) {
            throw new IllegalArgumentException("replicas, groups, nodes and GPUs must all be >= 1");
        }
        if (numReplicas % numGpus != 0) {
            throw new IllegalArgumentException("replicas R=" + numReplicas + " must be a multiple of GPUs P=" + numGpus);
        }
        if (numGpus % numNodes != 0) {
            throw new IllegalArgumentException("GPUs P=" + numGpus + " must be a multiple of nodes=" + numNodes);
        }
        if (n % numGroups != 0) {
            throw new IllegalArgumentException(n + " experts cannot be split into G=" + numGroups + " equal groups");
        }
        if (numReplicas < n) {
            throw new IllegalArgumentException("replicas R=" + numReplicas + " must be at least the " + n + " logical experts");
        }
        if (numGroups % numNodes == 0 && (n % numNodes != 0 || numReplicas % numNodes != 0)) {
            throw new IllegalArgumentException("hierarchical placement needs experts and replicas divisible by nodes=" + numNodes);
        }
    }
}
