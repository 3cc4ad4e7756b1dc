package dev.moe.routing;

/**
 * Routing of a batch held in Java arrays (the convenience API; the hot path writes into
 * MemorySegments instead).
 *
 * @param numTokens  T
 * @param topk       K
 * @param ids        int [T*K], row-major: expert ids by biased score descending, ties to the lower id
 * @param weights    float [T*K]: the gate weight of each id, same order
 * @param expertLoad long [N]: how many tokens chose each expert
 * @param stats      diagnostics
 */
public record RoutingResult(int numTokens, int topk, int[] ids, float[] weights, long[] expertLoad, GateStats stats) {

    /**
     * The expert id of one choice.
     *
     * @param t token index, 0 &le; t &lt; T
     * @param k choice index, 0 &le; k &lt; K
     * @return the expert id of choice {@code k} of token {@code t}
     */
    public int id(int t, int k) {
        return ids[t * topk + k];
    }

    /**
     * The gate weight of one choice.
     *
     * @param t token index, 0 &le; t &lt; T
     * @param k choice index, 0 &le; k &lt; K
     * @return the gate weight of choice {@code k} of token {@code t}
     */
    public float weight(int t, int k) {
        return weights[t * topk + k];
    }
}
