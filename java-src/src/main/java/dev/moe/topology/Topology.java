package dev.moe.topology;

import java.util.Arrays;

import dev.moe.routing.RoutingConfig;

/**
 * A cluster of {@code nodes × gpusPerNode} GPUs and the GPU that holds each routed expert (docs/specification.md §d).
 * Contiguous placement puts experts [g·N/P, (g+1)·N/P) on GPU g, so router group g is node g when
 * G equals the node count (DeepSeek-V3 node-limited routing) or GPU g when G equals the GPU count
 * (DeepSeek-V2 device-limited routing).
 */
public final class Topology {
    private final int nodes;
    private final int gpusPerNode;
    private final int[] expertToGpu;

    private Topology(int nodes, int gpusPerNode, int[] expertToGpu) {
        if (nodes < 1 || gpusPerNode < 1) {
            throw new IllegalArgumentException("need at least 1 node and 1 GPU per node, got " + nodes + " x " + gpusPerNode);
        }
        int gpus = nodes * gpusPerNode;
        for (int e = 0; e < expertToGpu.length; e++) {
            if (expertToGpu[e] < 0 || expertToGpu[e] >= gpus) {
                throw new IllegalArgumentException("expert " + e + " is placed on GPU " + expertToGpu[e] + ", but there are "
                        + gpus + " GPUs (0.." + (gpus - 1) + ")");
            }
        }
        this.nodes = nodes;
        this.gpusPerNode = gpusPerNode;
        this.expertToGpu = expertToGpu;
    }

    /**
     * Experts spread evenly and in order: GPU g holds experts [g·N/P, (g+1)·N/P).
     *
     * @param nodes       number of nodes, &ge; 1
     * @param gpusPerNode GPUs per node, &ge; 1
     * @param numExperts  N, a multiple of the GPU count P
     * @return the topology
     * @throws IllegalArgumentException if a count is below 1 or N is not a multiple of P
     */
    public static Topology contiguous(int nodes, int gpusPerNode, int numExperts) {
        long gpus = (long) nodes * gpusPerNode;
        if (nodes < 1 || gpusPerNode < 1) {
            throw new IllegalArgumentException("need at least 1 node and 1 GPU per node, got " + nodes + " x " + gpusPerNode);
        }
        if (numExperts % gpus != 0) {
            throw new IllegalArgumentException(numExperts + " experts cannot be spread evenly over " + nodes + " x " + gpusPerNode
                    + " = " + gpus + " GPUs (N mod GPUs must be 0)");
        }
        int per = (int) (numExperts / gpus);
        int[] map = new int[numExperts];
        for (int e = 0; e < numExperts; e++) {
            map[e] = e / per;
        }
        return new Topology(nodes, gpusPerNode, map);
    }

    /**
     * An explicit placement.
     *
     * @param nodes       number of nodes, &ge; 1
     * @param gpusPerNode GPUs per node, &ge; 1
     * @param expertToGpu int [N]: {@code expertToGpu[e]} is the GPU of expert e, in 0..P−1 (copied)
     * @return the topology
     * @throws IllegalArgumentException if a count is below 1 or a GPU index is out of range
     */
    public static Topology explicit(int nodes, int gpusPerNode, int[] expertToGpu) {
        return new Topology(nodes, gpusPerNode, expertToGpu.clone());
    }

    /**
     * The placement EPLB chose for one layer (docs/specification.md §j): physical slot p lives on GPU p / (R/P). Only plans
     * without redundant experts (R = N, one replica each) describe a one-GPU-per-expert placement; a plan
     * with replicas is refused, since dispatch would then have to choose among an expert's copies.
     *
     * @param plan        the EPLB plan
     * @param layer       the layer whose placement to take
     * @param nodes       number of nodes
     * @param gpusPerNode GPUs per node
     * @return the topology of that layer
     * @throws IllegalArgumentException if the slots do not spread evenly over the GPUs or the plan has
     *         redundant experts
     */
    public static Topology fromEplb(dev.moe.eplb.ExpertPlacementPlan plan, int layer, int nodes, int gpusPerNode) {
        int[] phy2log = plan.phy2log()[layer];
        int slots = phy2log.length;
        int gpus = nodes * gpusPerNode;
        if (gpus < 1 || slots % gpus != 0) {
            throw new IllegalArgumentException(slots + " physical slots cannot be spread over " + nodes + " x " + gpusPerNode
                    + " GPUs");
        }
        int[] map = new int[slots];
        java.util.Arrays.fill(map, -1);
        for (int p = 0; p < slots; p++) {
            int e = phy2log[p];
            if (e < 0 || e >= slots || map[e] != -1) {
                throw new IllegalArgumentException("the EPLB plan has redundant experts (" + slots + " slots, logical expert " + e
                        + " appears twice or is out of range): one GPU per expert needs replicas = experts");
            }
            map[e] = p / (slots / gpus);
        }
        return new Topology(nodes, gpusPerNode, map);
    }

    /** {@return the number of nodes} */
    public int nodes() {
        return nodes;
    }

    /** {@return GPUs per node} */
    public int gpusPerNode() {
        return gpusPerNode;
    }

    /** {@return P, the total number of GPUs} */
    public int gpus() {
        return nodes * gpusPerNode;
    }

    /** {@return N, the number of placed experts} */
    public int numExperts() {
        return expertToGpu.length;
    }

    /**
     * The GPU holding an expert.
     *
     * @param expert expert index, 0..N−1
     * @return its GPU, 0..P−1
     */
    public int gpuOf(int expert) {
        return expertToGpu[expert];
    }

    /**
     * The node holding an expert.
     *
     * @param expert expert index, 0..N−1
     * @return the node of its GPU
     */
    public int nodeOf(int expert) {
        return expertToGpu[expert] / gpusPerNode;
    }

    /**
     * The node of a GPU (GPUs are numbered node-major).
     *
     * @param gpu GPU index, 0..P−1
     * @return {@code gpu / gpusPerNode}
     */
    public int nodeOfGpu(int gpu) {
        return gpu / gpusPerNode;
    }

    /**
     * Checks that router groups coincide with nodes ({@code GroupScope.NODE}, V3) or GPUs
     * ({@code GroupScope.DEVICE}, V2): same count, and every group's experts on that one node / GPU,
     * so that a limit of M groups is a limit of M nodes / devices.
     *
     * @param config the routing configuration
     * @param scope  what a group stands for
     * @throws IllegalArgumentException if N, G or the placement does not match, with the reason
     */
    public void requireGroupsMatch(RoutingConfig config, GroupScope scope) {
        if (config.numExperts() != numExperts()) {
            throw new IllegalArgumentException("the router has " + config.numExperts() + " experts but the topology places "
                    + numExperts());
        }
        int units = scope == GroupScope.NODE ? nodes : gpus();
        String unit = scope == GroupScope.NODE ? "node" : "device";
        if (config.numGroups() != units) {
            throw new IllegalArgumentException("node/device-limited routing needs one router group per " + unit + ": G="
                    + config.numGroups() + " but there are " + units + " " + unit + "s");
        }
        if (config.topkGroups() > units) {
            throw new IllegalArgumentException("limit M=" + config.topkGroups() + " is larger than the " + units + " " + unit + "s");
        }
        for (int e = 0; e < numExperts(); e++) {
            int group = e / config.groupSize();
            int where = scope == GroupScope.NODE ? nodeOf(e) : gpuOf(e);
            if (where != group) {
                throw new IllegalArgumentException("expert " + e + " of router group " + group + " is on " + unit + " " + where
                        + "; each group's experts must sit on the " + unit + " of the same index");
            }
        }
    }

    @Override
    public String toString() {
        return "Topology[" + nodes + " nodes x " + gpusPerNode + " GPUs, " + numExperts() + " experts, placement "
                + Arrays.toString(Arrays.copyOf(expertToGpu, Math.min(8, expertToGpu.length))) + (expertToGpu.length > 8 ? "...]" : "]");
    }
}
