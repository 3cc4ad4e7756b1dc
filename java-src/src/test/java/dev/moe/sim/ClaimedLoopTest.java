package dev.moe.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

class ClaimedLoopTest {

    @Test
    void runsEveryIndexExactlyOnce() {
        for (int count : new int[] {0, 1, 2, 3, 37, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, count));
            ClaimedLoop.run(count, i -> seen.incrementAndGet(i));
            for (int i = 0; i < count; i++) {
                assertEquals(1, seen.get(i), "index " + i + " of " + count);
            }
        }
    }

    @Test
    void poolThreadsShareTheWorkAndAllOfItIsDoneOnReturn() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() > 0,
                "no pool threads on this machine: the caller runs every index");
        Thread caller = Thread.currentThread();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        CountDownLatch poolJoined = new CountDownLatch(1);
        AtomicIntegerArray done = new AtomicIntegerArray(64);
        ClaimedLoop.run(64, i -> {
            threads.add(Thread.currentThread());
            if (Thread.currentThread() != caller) {
                poolJoined.countDown();
            } else {
                try {
                    // The caller's indices wait until a pool thread has claimed one: the pool must take part.
                    assertTrue(poolJoined.await(30, TimeUnit.SECONDS), "no pool thread claimed an index");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (Thread.currentThread() != caller) {
                // Still busy when the caller runs out of indices, beyond the caller's short spin: run() must wait.
                long until = System.nanoTime() + 20_000_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
            done.set(i, 1);
        });
        for (int i = 0; i < 64; i++) {
            assertEquals(1, done.get(i), "index " + i + " still running after run() returned");
        }
        assertTrue(threads.contains(caller), "the caller claims indices too");
        assertTrue(threads.size() > 1, threads.toString());
    }

    @Test
    void aFailureStopsTheLoopAndReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicIntegerArray ran = new AtomicIntegerArray(10_000);
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> ClaimedLoop.run(10_000, i -> {
            ran.set(i, 1);
            if (i == 3) {
                throw boom;
            }
        }));
        // A pool thread's failure arrives as join() rethrows it: the same type, wrapping the original.
        assertSame(boom, thrown == boom ? thrown : thrown.getCause());
        int count = 0;
        for (int i = 0; i < 10_000; i++) {
            count += ran.get(i);
        }
        assertTrue(count < 10_000, "the loop went on after the failure: " + count + " indices ran");
    }
}
