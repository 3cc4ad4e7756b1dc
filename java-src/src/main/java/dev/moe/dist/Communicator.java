package dev.moe.dist;

/**
 * The collective operations expert parallelism needs (spec §d, §e.3): a rank among {@link #size()}
 * processes, all-reduce of load vectors, all-to-all-v of token rows, all-gather and barrier. Every
 * call is collective: all ranks make the same calls in the same order. Implementations:
 * {@link SelfCommunicator} (one process, no MPI), {@link MpiCommunicator} (MPI through libmoe_mpi) and
 * {@link LocalGroup} (threads of one JVM, for tests). A failed call throws
 * {@link CommunicatorException}; the group is then unusable.
 */
public interface Communicator extends AutoCloseable {

    /** Reductions for {@link #allReduce(long[], Reduction)}. */
    enum Reduction { SUM, MAX, MIN }

    /** This process's rank, 0 ≤ rank &lt; size. */
    int rank();

    /** Number of ranks. */
    int size();

    /** Replaces {@code values} on every rank by their element-wise reduction over all ranks. */
    void allReduce(long[] values, Reduction op);

    /** Replaces {@code values} on every rank by their element-wise sum over all ranks. */
    void allReduceSum(double[] values);

    /**
     * Sends {@code send[offsets[r] .. offsets[r] + counts[r])} to rank r (offsets are the prefix sums
     * of counts) and returns what every rank sent here, in rank order, with the byte counts per source.
     */
    Received allToAllV(byte[] send, int[] counts);

    /** Every rank's {@code mine} (all the same length), in rank order. */
    byte[][] allGather(byte[] mine);

    void barrier();

    /**
     * Ends the whole job with {@code code} (every rank, not just this one); used when one rank fails so
     * that the others do not wait forever in a collective. Never returns normally.
     */
    void abort(int code, String reason);

    /** What this communicator is, for logs ("mpi rank 2 of 4 (Open MPI v4.1.4)"). */
    String describe();

    /** Leaves the group (collective for MPI: every rank closes). */
    @Override
    void close();

    /**
     * Bytes received in an all-to-all-v.
     *
     * @param data   everything received, source rank by source rank
     * @param counts bytes from each source rank
     */
    record Received(byte[] data, int[] counts) {
        /** Offset of source rank r's bytes in {@link #data()}. */
        public int offset(int r) {
            int o = 0;
            for (int i = 0; i < r; i++) {
                o += counts[i];
            }
            return o;
        }
    }

    /** Checks an all-to-all-v request; returns the total. */
    static int checkCounts(byte[] send, int[] counts, int size) {
        if (counts.length != size) {
            throw new IllegalArgumentException("all-to-all-v needs one count per rank (" + size + "), got " + counts.length);
        }
        long total = 0;
        for (int r = 0; r < size; r++) {
            if (counts[r] < 0) {
                throw new IllegalArgumentException("negative byte count " + counts[r] + " for rank " + r);
            }
            total += counts[r];
        }
        if (total != send.length) {
            throw new IllegalArgumentException("all-to-all-v counts sum to " + total + " bytes but the buffer holds " + send.length);
        }
        return (int) total;
    }
}
