package dev.moe.loss;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

import dev.moe.routing.RoutingResult;

/**
 * Capacity-based token dropping (docs/specification.md §g). An assignment is one (token, chosen expert) pair; its
 * affinity is its gate weight. Dropping an assignment sets its id to −1 and its weight to 0 in
 * copies of the arrays; survivors keep their weights (no renormalisation).
 *
 * <ul>
 *   <li>{@link Mode#DEVICE_LEVEL} (DeepSeek-V2): the N experts form D contiguous equal device
 *       groups; each device's budget is ceil(cf · A / D), A the number of routed assignments of the
 *       step (ids &ge; 0, normally T·K). On each device over budget the assignments with the lowest
 *       affinity are dropped until it is at budget.</li>
 *   <li>{@link Mode#EXPERT_LEVEL} (Megatron, "probs" policy): each expert keeps at most
 *       ceil(T·K/N · cf) assignments, those with the highest affinity.</li>
 *   <li>{@link Mode#NO_DROP} (DeepSeek-V3): never drops.</li>
 * </ul>
 *
 * <p>Ties: among assignments of equal affinity the later token is dropped first (so earlier tokens
 * are served first, as when a budget fills in token order), and within one token the higher expert
 * index is dropped first. Weights are compared as values, so −0.0 and 0.0 tie.
 *
 * <p>The capacities are computed in double exactly as written, so a factor that is not a binary
 * fraction can round the product above an integer (2.2 · 25 = 55.00000000000001, ceil 56).
 *
 * <p>Ids of −1 in the input (already absent) are ignored: not counted and left as they are.
 * Instances are immutable and thread-safe.
 */
public final class CapacityDropper {

    /** How capacity is enforced. */
    public enum Mode {
        /** Never drop (DeepSeek-V3). */
        NO_DROP,
        /** Budget per device, drop the lowest-affinity assignments (DeepSeek-V2). */
        DEVICE_LEVEL,
        /** Capacity per expert, keep the highest-probability assignments (Megatron "probs"). */
        EXPERT_LEVEL
    }

    /** The capacity factor used when none is given. */
    public static final double DEFAULT_CAPACITY_FACTOR = 1.0;

    private final Mode mode;
    private final int numExperts;
    private final int numDevices;
    private final double capacityFactor;

    private CapacityDropper(Mode mode, int numExperts, int numDevices, double capacityFactor) {
        if (numExperts < 1) {
            throw new IllegalArgumentException("number of experts N must be >= 1, got " + numExperts);
        }
        if (numDevices < 1 || numExperts % numDevices != 0) {
            throw new IllegalArgumentException("N=" + numExperts + " experts cannot be split into D=" + numDevices
                    + " equal contiguous device groups");
        }
        if (!Double.isFinite(capacityFactor) || !(capacityFactor > 0.0)) {
            throw new IllegalArgumentException("capacity factor must be finite and > 0, got " + capacityFactor);
        }
        this.mode = mode;
        this.numExperts = numExperts;
        this.numDevices = numDevices;
        this.capacityFactor = capacityFactor;
    }

    /**
     * A dropper that never drops (DeepSeek-V3).
     *
     * @param numExperts N, &ge; 1
     * @return the dropper
     * @throws IllegalArgumentException if N &lt; 1
     */
    public static CapacityDropper noDrop(int numExperts) {
        return new CapacityDropper(Mode.NO_DROP, numExperts, 1, DEFAULT_CAPACITY_FACTOR);
    }

    /**
     * DeepSeek-V2 device-level dropping with capacity factor 1.0.
     *
     * @param numExperts N, &ge; 1
     * @param numDevices D, &ge; 1, dividing N
     * @return the dropper
     * @throws IllegalArgumentException if N &lt; 1 or D does not divide N
     */
    public static CapacityDropper deviceLevel(int numExperts, int numDevices) {
        return deviceLevel(numExperts, numDevices, DEFAULT_CAPACITY_FACTOR);
    }

    /**
     * DeepSeek-V2 device-level dropping; N must be a multiple of D.
     *
     * @param numExperts     N, &ge; 1
     * @param numDevices     D, &ge; 1, dividing N
     * @param capacityFactor cf, finite and &gt; 0
     * @return the dropper
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static CapacityDropper deviceLevel(int numExperts, int numDevices, double capacityFactor) {
        return new CapacityDropper(Mode.DEVICE_LEVEL, numExperts, numDevices, capacityFactor);
    }

    /**
     * Megatron-style expert-level dropping with capacity factor 1.0.
     *
     * @param numExperts N, &ge; 1
     * @return the dropper
     * @throws IllegalArgumentException if N &lt; 1
     */
    public static CapacityDropper expertLevel(int numExperts) {
        return expertLevel(numExperts, DEFAULT_CAPACITY_FACTOR);
    }

    /**
     * Megatron-style expert-level dropping ("probs" policy).
     *
     * @param numExperts     N, &ge; 1
     * @param capacityFactor cf, finite and &gt; 0
     * @return the dropper
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static CapacityDropper expertLevel(int numExperts, double capacityFactor) {
        return new CapacityDropper(Mode.EXPERT_LEVEL, numExperts, 1, capacityFactor);
    }

    /** {@return how capacity is enforced} */
    public Mode mode() {
        return mode;
    }

    /** {@return N, the number of experts} */
    public int numExperts() {
        return numExperts;
    }

    /** {@return D (1 unless device-level)} */
    public int numDevices() {
        return numDevices;
    }

    /** {@return the capacity factor cf (1.0 for {@link Mode#NO_DROP})} */
    public double capacityFactor() {
        return capacityFactor;
    }

    /**
     * The device budget ceil(cf · assignments / D), computed in double.
     *
     * @param capacityFactor cf
     * @param assignments    A, the routed assignments of the step
     * @param numDevices     D
     * @return the budget per device, saturated at {@link Integer#MAX_VALUE}
     */
    public static int deviceBudget(double capacityFactor, long assignments, int numDevices) {
        return saturatedCeil(capacityFactor * assignments / numDevices);
    }

    /**
     * The expert capacity ceil(T·K/N · cf), computed in double.
     *
     * @param capacityFactor cf
     * @param tokens         T
     * @param topk           K
     * @param numExperts     N
     * @return the capacity per expert, saturated at {@link Integer#MAX_VALUE}
     */
    public static int expertCapacity(double capacityFactor, int tokens, int topk, int numExperts) {
        return saturatedCeil((double) tokens * topk / numExperts * capacityFactor);
    }

    /**
     * Applies capacity to a router's result.
     *
     * @param routing the routing of T tokens over this dropper's N experts
     * @return the routing left after dropping (copies; {@code routing} is not modified)
     * @throws IllegalArgumentException if the routing's N differs from this dropper's, or as
     *         {@link #apply(int, int, int[], float[])}
     */
    public DropResult apply(RoutingResult routing) {
        Objects.requireNonNull(routing, "routing");
        if (routing.expertLoad().length != numExperts) {
            throw new IllegalArgumentException("routing has N=" + routing.expertLoad().length + ", dropper expects N=" + numExperts);
        }
        return apply(routing.numTokens(), routing.topk(), routing.ids(), routing.weights());
    }

    /**
     * Applies capacity to T tokens' K choices.
     *
     * @param tokens  T, &ge; 0
     * @param topk    K, &ge; 1
     * @param ids     int [T*K], each −1 or in 0..N−1
     * @param weights float [T*K], finite: the affinities
     * @return the routing left after dropping (copies; the arguments are not modified)
     * @throws IllegalArgumentException if the lengths are not T*K, an id is out of range or a weight
     *         is not finite
     */
    public DropResult apply(int tokens, int topk, int[] ids, float[] weights) {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(weights, "weights");
        if (tokens < 0 || topk < 1 || (long) tokens * topk != ids.length || ids.length != weights.length) {
            throw new IllegalArgumentException("ids and weights must both hold T*K values (T=" + tokens + ", K=" + topk
                    + "), got " + ids.length + " and " + weights.length);
        }
        long assignments = 0;
        for (int o = 0; o < ids.length; o++) {
            if (ids[o] < -1 || ids[o] >= numExperts) {
                throw new IllegalArgumentException("id [" + (o / topk) + ", " + (o % topk) + "] = " + ids[o]
                        + " is outside -1.." + (numExperts - 1));
            }
            if (!Float.isFinite(weights[o])) {
                throw new IllegalArgumentException("weight [" + (o / topk) + ", " + (o % topk) + "] is " + weights[o]);
            }
            if (ids[o] >= 0) {
                assignments++;
            }
        }
        int[] outIds = ids.clone();
        float[] outWeights = weights.clone();
        int units = mode == Mode.DEVICE_LEVEL ? numDevices : numExperts;
        int[] dropped = new int[units];
        int capacity = switch (mode) {
            case NO_DROP -> Integer.MAX_VALUE;
            case DEVICE_LEVEL -> deviceBudget(capacityFactor, assignments, numDevices);
            case EXPERT_LEVEL -> expertCapacity(capacityFactor, tokens, topk, numExperts);
        };
        if (mode == Mode.NO_DROP) {
            return new DropResult(mode, capacity, outIds, outWeights, dropped, 0);
        }
        int unitSize = numExperts / units;
        List<List<Integer>> byUnit = new ArrayList<>(units);
        for (int u = 0; u < units; u++) {
            byUnit.add(new ArrayList<>());
        }
        for (int o = 0; o < ids.length; o++) {
            if (ids[o] >= 0) {
                byUnit.get(ids[o] / unitSize).add(o);
            }
        }
        // Keep order: affinity descending, then token ascending, then expert ascending.
        Comparator<Integer> keepFirst = (a, b) -> {
            float wa = weights[a];
            float wb = weights[b];
            if (wa != wb) {
                return wa > wb ? -1 : 1;
            }
            int byToken = Integer.compare(a / topk, b / topk);
            return byToken != 0 ? byToken : Integer.compare(ids[a], ids[b]);
        };
        int total = 0;
        for (int u = 0; u < units; u++) {
            List<Integer> members = byUnit.get(u);
            if (members.size() <= capacity) {
                continue;
            }
            members.sort(keepFirst);
            for (int r = capacity; r < members.size(); r++) {
                int o = members.get(r);
                outIds[o] = -1;
                outWeights[o] = 0.0f;
            }
            dropped[u] = members.size() - capacity;
            total += dropped[u];
        }
        return new DropResult(mode, capacity, outIds, outWeights, dropped, total);
    }

    private static int saturatedCeil(double x) {
        double c = Math.ceil(x);
        return c >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) c;
    }

    @Override
    public String toString() {
        return "CapacityDropper[" + mode + ", N=" + numExperts + ", D=" + numDevices + ", cf=" + capacityFactor + "]";
    }
}
