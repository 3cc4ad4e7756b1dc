package dev.moe.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process group made of threads of one JVM: {@link #create(int)} returns one {@link Communicator}
 * per rank, each to be used by its own thread. It runs the distributed code paths (sharding, load
 * all-reduce, dispatch and combine) in unit tests without MPI; the MPI runs check the same code across
 * processes. A rank that aborts, or a collective that waits longer than the timeout, fails every rank.
 */
public final class LocalGroup {
    private final int size;
    private final CyclicBarrier barrier;
    private final Object[] slots;
    private final long timeoutNanos;
    private volatile String failure;

    private LocalGroup(int size, Duration timeout) {
        this.size = size;
        this.barrier = new CyclicBarrier(size);
        this.slots = new Object[size];
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * {@code size} communicators of one group; collectives time out after 60 s.
     *
     * @param size the number of ranks, &ge; 1
     * @return communicator r is rank r (an immutable list)
     * @throws IllegalArgumentException if {@code size} is below 1
     */
    public static List<Communicator> create(int size) {
        return create(size, Duration.ofSeconds(60));
    }

    /**
     * {@code size} communicators of one group, with a time limit for each wait in a collective.
     *
     * @param size    the number of ranks, &ge; 1
     * @param timeout how long a rank waits for the others in a collective before the group fails
     * @return communicator r is rank r (an immutable list)
     * @throws IllegalArgumentException if {@code size} is below 1
     */
    public static List<Communicator> create(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("a group needs at least one rank, got " + size);
        }
        LocalGroup g = new LocalGroup(size, timeout);
        List<Communicator> ranks = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            ranks.add(g.new Member(r));
        }
        return List.copyOf(ranks);
    }

    private void await(int rank) {
        if (failure != null) {
            throw new CommunicatorException(failure);
        }
        try {
            barrier.await(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("rank " + rank + " was interrupted in a collective");
        } catch (TimeoutException e) {
            fail("rank " + rank + " waited more than " + Duration.ofNanos(timeoutNanos) + " in a collective");
        } catch (BrokenBarrierException e) {
            fail(failure != null ? failure : "another rank left a collective");
        }
    }

    private void fail(String why) {
        if (failure == null) {
            failure = why;
        }
        barrier.reset();
        throw new CommunicatorException(failure);
    }

    /** Deposits this rank's contribution, waits for all, and returns every rank's (do not modify them). */
    private Object[] exchange(int rank, Object mine) {
        slots[rank] = mine;
        await(rank);
        Object[] all = slots.clone();
        await(rank);  // nobody overwrites a slot before every rank has read them all
        return all;
    }

    private final class Member implements Communicator {
        private final int rank;

        Member(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void allReduce(long[] values, Reduction op) {
            Object[] all = exchange(rank, values.clone());
            for (int i = 0; i < values.length; i++) {
                long acc = ((long[]) all[0])[i];
                for (int r = 1; r < size; r++) {
                    long v = ((long[]) all[r])[i];
                    acc = switch (op) {
                        case SUM -> acc + v;
                        case MAX -> Math.max(acc, v);
                        case MIN -> Math.min(acc, v);
                    };
                }
                values[i] = acc;
            }
        }

        @Override
        public void allReduceSum(double[] values) {
            Object[] all = exchange(rank, values.clone());
            for (int i = 0; i < values.length; i++) {
                double acc = 0;
                for (int r = 0; r < size; r++) {
                    acc += ((double[]) all[r])[i];
                }
                values[i] = acc;
            }
        }

        @Override
        public Received allToAllV(byte[] send, int[] counts) {
            Communicator.checkCounts(send, counts, size);
            Object[] all = exchange(rank, new Object[] {send, counts});
            int[] recvCounts = new int[size];
            int total = 0;
            for (int r = 0; r < size; r++) {
                recvCounts[r] = ((int[]) ((Object[]) all[r])[1])[rank];
                total += recvCounts[r];
            }
            byte[] data = new byte[total];
            int at = 0;
            for (int r = 0; r < size; r++) {
                byte[] theirs = (byte[]) ((Object[]) all[r])[0];
                int[] theirCounts = (int[]) ((Object[]) all[r])[1];
                int off = 0;
                for (int q = 0; q < rank; q++) {
                    off += theirCounts[q];
                }
                System.arraycopy(theirs, off, data, at, recvCounts[r]);
                at += recvCounts[r];
            }
            return new Received(data, recvCounts);
        }

        @Override
        public byte[][] allGather(byte[] mine) {
            Object[] all = exchange(rank, mine.clone());
            byte[][] out = new byte[size][];
            for (int r = 0; r < size; r++) {
                out[r] = ((byte[]) all[r]).clone();
                if (out[r].length != mine.length) {
                    throw new CommunicatorException("all-gather: rank " + r + " sent " + out[r].length + " bytes, rank " + rank
                            + " sent " + mine.length);
                }
            }
            return out;
        }

        @Override
        public void barrier() {
            await(rank);
        }

        @Override
        public void abort(int code, String reason) {
            fail("rank " + rank + " aborted the group (exit code " + code + "): " + reason);
        }

        @Override
        public String describe() {
            return "thread rank " + rank + " of " + size + " (in-process group)";
        }

        @Override
        public void close() {
            // Threads hold nothing native.
        }
    }
}
