package dev.moe.cli;

import java.util.Arrays;

/** Wall-clock timing for the CLI's in-process comparisons: warm up, then the median of repeated runs. */
final class Timing {
    private Timing() {}

    /**
     * Runs {@code task} for about {@code seconds} (a fifth of it as warm-up, at least 3 measured runs)
     * and returns the sorted per-run times in seconds.
     */
    static double[] measure(Runnable task, double seconds) {
        long budget = (long) (seconds * 1e9);
        long warmEnd = System.nanoTime() + budget / 5;
        do {
            task.run();
        } while (System.nanoTime() < warmEnd);
        double[] times = new double[16];
        int count = 0;
        long end = System.nanoTime() + budget - budget / 5;
        while (count < 3 || (System.nanoTime() < end && count < 1_000_000)) {
            long t0 = System.nanoTime();
            task.run();
            long dt = System.nanoTime() - t0;
            if (count == times.length) {
                times = Arrays.copyOf(times, count * 2);
            }
            times[count++] = dt / 1e9;
        }
        double[] out = Arrays.copyOf(times, count);
        Arrays.sort(out);
        return out;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
