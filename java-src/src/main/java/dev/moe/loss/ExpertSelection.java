package dev.moe.loss;

import java.util.Arrays;
import java.util.Objects;

import dev.moe.routing.RoutingResult;

/**
 * Which experts each token of a scope selected: the non-differentiable indicator the balance
 * losses build their frequencies f from (docs/specification.md §f). Holding it as an input keeps the selection fixed
 * when logits are perturbed.
 *
 * <p>Ids are row-major [T*K]; an id of −1 stands for an assignment that does not exist (e.g. one a
 * {@link CapacityDropper} dropped) and counts for nothing. A token may not select an expert twice.
 *
 * @param tokens     T
 * @param numExperts N
 * @param topk       K, choices per token
 * @param ids        int [T*K], each −1 or in 0..N−1 (copied on construction; do not modify)
 */
public record ExpertSelection(int tokens, int numExperts, int topk, int[] ids) {

    /**
     * Validates and copies {@code ids}.
     *
     * @throws IllegalArgumentException if T &lt; 0, N &lt; 1, K &lt; 1 or K &gt; N, {@code ids} is not of
     *         length T*K, an id is out of range, or a token selects an expert twice
     */
    public ExpertSelection {
        Objects.requireNonNull(ids, "ids");
        if (tokens < 0 || numExperts < 1 || topk < 1) {
            throw new IllegalArgumentException("need T >= 0, N >= 1, K >= 1; got T=" + tokens + ", N=" + numExperts + ", K=" + topk);
        }
        if (topk > numExperts) {
            throw new IllegalArgumentException("K=" + topk + " exceeds N=" + numExperts);
        }
        if ((long) tokens * topk != ids.length) {
            throw new IllegalArgumentException("ids must hold T*K=" + ((long) tokens * topk) + " values, got " + ids.length);
        }
        ids = ids.clone();
        boolean[] seen = new boolean[numExperts];
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(seen, false);
            for (int q = 0; q < topk; q++) {
                int e = ids[t * topk + q];
                if (e < -1 || e >= numExperts) {
                    throw new IllegalArgumentException("id [" + t + ", " + q + "] = " + e + " is outside -1.." + (numExperts - 1));
                }
                if (e >= 0) {
                    if (seen[e]) {
                        throw new IllegalArgumentException("token " + t + " selects expert " + e + " twice");
                    }
                    seen[e] = true;
                }
            }
        }
    }

    /**
     * The selection a router made; N is the length of its expert-load histogram.
     *
     * @param routing the router's result
     * @return the selection
     * @throws IllegalArgumentException if the ids are invalid (see the canonical constructor)
     */
    public static ExpertSelection of(RoutingResult routing) {
        Objects.requireNonNull(routing, "routing");
        return new ExpertSelection(routing.numTokens(), routing.expertLoad().length, routing.topk(), routing.ids());
    }

    /**
     * The plain top-K of the scores of every token, with no groups and no bias, ties to the lower
     * index (docs/specification.md §f.2). Both score functions are strictly increasing in a token's own logit, so
     * the K largest scores are the K largest logits; ranking the logits avoids ties that exist only
     * because a score saturated in floating point. Tokens are ranked in parallel.
     *
     * @param logits     z, [T*N] row-major, finite
     * @param tokens     T
     * @param numExperts N
     * @param topk       K, 1..N
     * @return the selection, each token's ids by logit descending
     * @throws IllegalArgumentException if the length of {@code logits} is not T*N or K is out of range
     */
    public static ExpertSelection topK(double[] logits, int tokens, int numExperts, int topk) {
        if (tokens < 0 || numExperts < 1 || (long) tokens * numExperts != logits.length) {
            throw new IllegalArgumentException("logits must hold T*N=" + ((long) tokens * numExperts) + " values, got " + logits.length);
        }
        if (topk < 1 || topk > numExperts) {
            throw new IllegalArgumentException("K must be in 1..N=" + numExperts + ", got " + topk);
        }
        int[] ids = new int[tokens * topk];
        // One insertion pass per token (tokens in parallel): a value enters the sorted list only if
        // strictly larger than an entry, so among equal values the lower index stays ahead.
        java.util.stream.IntStream.range(0, tokens).parallel().forEach(t -> {
            double[] tv = new double[topk];
            int row = t * numExperts;
            int out = t * topk;
            int count = 0;
            for (int i = 0; i < numExperts; i++) {
                double v = logits[row + i];
                if (count == topk && !(v > tv[topk - 1])) {
                    continue;
                }
                int p = count < topk ? count++ : topk - 1;
                while (p > 0 && v > tv[p - 1]) {
                    tv[p] = tv[p - 1];
                    ids[out + p] = ids[out + p - 1];
                    p--;
                }
                tv[p] = v;
                ids[out + p] = i;
            }
        });
        return new ExpertSelection(tokens, numExperts, topk, ids);
    }

    /**
     * The expert id of one choice.
     *
     * @param t token index
     * @param q choice index, 0..K−1
     * @return the expert id of choice {@code q} of token {@code t} (−1 if absent)
     */
    public int id(int t, int q) {
        return ids[t * topk + q];
    }

    /** {@return a copy of the ids, int [T*K]} */
    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** {@return how many tokens selected each expert, long [N]} */
    public long[] counts() {
        long[] c = new long[numExperts];
        for (int e : ids) {
            if (e >= 0) {
                c[e]++;
            }
        }
        return c;
    }

    /**
     * f_i = N/(K·T) · Σ_t 1[token t selects i] (docs/specification.md §f.1): 1 for every expert when the
     * load is perfectly balanced.
     *
     * @return double [N]; all zero when T = 0
     */
    public double[] expertFractions() {
        double[] f = new double[numExperts];
        if (tokens == 0) {
            return f;
        }
        double scale = (double) numExperts / ((double) topk * tokens);
        long[] c = counts();
        for (int i = 0; i < numExperts; i++) {
            f[i] = scale * c[i];
        }
        return f;
    }

    /**
     * Tokens {@code from} (inclusive) to {@code to} (exclusive) as a selection of their own.
     *
     * @param from first token, inclusive
     * @param to   last token, exclusive
     * @return the sub-selection
     * @throws IndexOutOfBoundsException if the range is not within 0..T
     */
    public ExpertSelection slice(int from, int to) {
        Objects.checkFromToIndex(from, to, tokens);
        return new ExpertSelection(to - from, numExperts, topk, Arrays.copyOfRange(ids, from * topk, to * topk));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExpertSelection s && tokens == s.tokens && numExperts == s.numExperts && topk == s.topk
                && Arrays.equals(ids, s.ids);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tokens, numExperts, topk, Arrays.hashCode(ids));
    }

    @Override
    public String toString() {
        return "ExpertSelection[T=" + tokens + ", N=" + numExperts + ", K=" + topk + "]";
    }
}
