package dev.moe.sim;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A parallel loop for short, repeated batches: the calling thread and one task per further pool thread
 * claim indices in order from one counter, and the caller waits for the pool's last index by spinning
 * briefly before it blocks. A parallel stream splits and joins at several levels, each join possibly
 * parking a thread; where waking a parked thread costs ~0.1 ms (measured on a 2-core virtual machine),
 * that was about a fifth of the simulator's logit generation. Here a batch wakes each pool thread once,
 * and the caller only spins for the indices the pool threads are finishing.
 */
final class ClaimedLoop {
    /** How long the caller spins, in all, for the pool threads' last indices before it blocks in join. */
    private static final long SPIN_NANOS = 200_000;

    private ClaimedLoop() {}

    /**
     * Runs {@code body} once for each index in [0, count), on the calling thread and pool threads.
     *
     * @param count the number of indices
     * @param body  what to do for one index; must be safe to run concurrently for different indices
     */
    static void run(int count, IntConsumer body) {
        int helpers = Math.min(ForkJoinPool.getCommonPoolParallelism(), count - 1);
        if (helpers <= 0) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable claim = () -> {
            try {
                int i;
                while ((i = next.getAndIncrement()) < count) {
                    body.accept(i);
                }
            } catch (RuntimeException | Error e) {
                next.set(count);  // the others stop after their current index
                throw e;
            }
        };
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) {
            tasks[h] = ForkJoinPool.commonPool().submit(claim);
        }
        Throwable failure = null;
        try {
            claim.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        long until = System.nanoTime() + SPIN_NANOS;
        for (ForkJoinTask<?> t : tasks) {
            while (!t.isDone() && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        }
        for (ForkJoinTask<?> t : tasks) {
            try {
                t.join();  // runs a task no pool thread has started yet, which then finds nothing left
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                } else if (failure != e) {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }
}
