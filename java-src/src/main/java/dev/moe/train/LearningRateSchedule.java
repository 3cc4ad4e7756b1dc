package dev.moe.train;

/**
 * Linear warm-up from 0 to the peak over {@code warmup} steps, then cosine decay to 10 % of the peak at
 * the last step.
 *
 * @param peak   the peak learning rate
 * @param warmup warm-up steps, &ge; 0
 * @param steps  the length of the whole run
 */
public record LearningRateSchedule(double peak, int warmup, int steps) {
    /** The final learning rate as a fraction of the peak. */
    public static final double FLOOR = 0.1;

    /**
     * The rate for a step.
     *
     * @param step 1-based step number
     * @return the learning rate
     */
    public float at(int step) {
        if (step <= warmup) {
            return (float) (peak * step / Math.max(1, warmup));
        }
        double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, steps - warmup));
        return (float) (peak * (FLOOR + (1 - FLOOR) * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }
}
