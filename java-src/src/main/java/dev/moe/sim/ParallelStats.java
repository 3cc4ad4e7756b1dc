package dev.moe.sim;

import java.util.Arrays;

/**
 * How a simulation ran across ranks (one rank for a single process).
 *
 * @param ranks                  data-parallel ranks
 * @param tokensPerRank          tokens of each step this rank routed (its shard)
 * @param stepNanos              wall time of each step on this rank, the collectives included
 * @param allReduceBytesPerStep  bytes this rank contributes to the per-step all-reduces (0 traffic when alone)
 * @param biasChecks             cross-rank bias comparisons made (all passed, or the run failed)
 */
public record ParallelStats(int ranks, int tokensPerRank, long[] stepNanos, long allReduceBytesPerStep, int biasChecks) {

    /** {@return the mean seconds per step (0 without steps)} */
    public double meanStepSeconds() {
        return Arrays.stream(stepNanos).average().orElse(0) / 1e9;
    }

    /** {@return the median seconds per step (the upper median for an even count; 0 without steps)} */
    public double medianStepSeconds() {
        if (stepNanos.length == 0) {
            return 0;
        }
        long[] sorted = stepNanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e9;
    }
}
