package dev.moe.sim;

import java.util.List;

/**
 * The outcome of a simulation run.
 *
 * @param steps            per-step records
 * @param maxVioGlobal     MaxVio on the held-out token set with the final bias, averaged over layers
 * @param computationBatches batch sizes of {@code maxVioByBatch}
 * @param maxVioByBatch    MaxVio_computation-batch ([LF] §5.1) on the held-out set at each size (0 where the set
 *                         holds less than one batch)
 * @param biasHistory      layer 0's bias after each step, [steps][N]
 * @param loadHistory      layer 0's relative expert load (load / mean) in each step, [steps][N]
 * @param routingsPerSecond tokens × layers routed per second of simulation (generation included)
 * @param balancerShare    fraction of the run's time spent in the balancer's update
 * @param parallel         ranks, step times and collective traffic of the run
 */
public record SimulationResult(List<StepRecord> steps, double maxVioGlobal, int[] computationBatches,
                               double[] maxVioByBatch, float[][] biasHistory, float[][] loadHistory,
                               double routingsPerSecond, double balancerShare, ParallelStats parallel) {

    /** {@return the record of the last step} */
    public StepRecord last() {
        return steps.getLast();
    }

    /** {@return the assignments dropped over all steps} */
    public long totalDropped() {
        return steps.stream().mapToLong(StepRecord::dropped).sum();
    }

    /** {@return the cross-node token copies over all steps} */
    public long totalCrossNodeSends() {
        return steps.stream().mapToLong(StepRecord::crossNodeSends).sum();
    }

    /** {@return the intra-node forwards over all steps} */
    public long totalIntraNodeForwards() {
        return steps.stream().mapToLong(StepRecord::intraNodeForwards).sum();
    }

    /**
     * Mean of maxVioBatch over the last {@code n} steps (the steady state).
     *
     * @param n how many steps, &ge; 0, counted from the end (all steps if there are fewer)
     * @return the mean; 0 if {@code n} is 0
     */
    public double meanMaxVioLast(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("the number of steps must be >= 0, got " + n);
        }
        int from = Math.max(0, steps.size() - n);
        return steps.subList(from, steps.size()).stream().mapToDouble(StepRecord::maxVioBatch).average().orElse(0);
    }

    /**
     * MaxVio_batch per step averaged over the last {@code window} steps (fewer at the start), as [LF] plots it.
     *
     * @param window the window length in steps, &ge; 1
     * @return one value per step
     * @throws IllegalArgumentException if {@code window} is below 1
     */
    public double[] maxVioMovingAverage(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        double[] out = new double[steps.size()];
        double acc = 0;
        for (int i = 0; i < out.length; i++) {
            acc += steps.get(i).maxVioBatch();
            if (i >= window) {
                acc -= steps.get(i - window).maxVioBatch();
            }
            out[i] = acc / Math.min(i + 1, window);
        }
        return out;
    }

    /** {@return the CSV of all steps, header first, '\n' line ends} */
    public String csv() {
        StringBuilder sb = new StringBuilder(StepRecord.CSV_HEADER).append('\n');
        for (StepRecord r : steps) {
            sb.append(r.csv()).append('\n');
        }
        return sb.toString();
    }
}
