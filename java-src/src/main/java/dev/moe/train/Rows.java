package dev.moe.train;

import java.util.stream.IntStream;

/**
 * Row loops on the common fork-join pool, in fixed chunks of rows. For work where each row is computed on
 * its own (element-wise maps, per-row reductions), every row gets the same operations whatever thread takes
 * it, so the results do not depend on the number of threads.
 */
final class Rows {
    /** Rows per task: enough work to outweigh handing a task to another thread. */
    private static final int GRAIN = 64;

    private Rows() {}

    /** The body of a loop over rows {@code from} (inclusive) to {@code to} (exclusive). */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over rows 0..rows-1, chunks in parallel.
     *
     * @param rows rows
     * @param body the loop over a range of rows; must not write what another row reads
     */
    static void parallel(int rows, Range body) {
        int chunks = (rows + GRAIN - 1) / GRAIN;
        if (chunks <= 1) {
            body.run(0, rows);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> body.run(c * GRAIN, Math.min(rows, (c + 1) * GRAIN)));
    }
}
