package dev.moe.dist;

/**
 * The collective operations expert parallelism needs (docs/specification.md §d, §e.3): a rank among {@link #size()}
 * processes, all-reduce of load vectors, all-to-all-v of token rows, all-gather and barrier. Every
 * call is collective: all ranks make the same calls in the same order. Implementations:
 * {@link SelfCommunicator} (one process, no MPI), {@link MpiCommunicator} (MPI through libmoe_mpi) and
 * {@link LocalGroup} (threads of one JVM, for tests). A failed call throws
 * {@link CommunicatorException}; the group is then unusable.
 */
public interface Communicator extends AutoCloseable {

    /** Reductions for {@link #allReduce(long[], Reduction)}: element-wise sum, maximum or minimum. */
    enum Reduction { /** Element-wise sum. */ SUM, /** Element-wise maximum. */ MAX, /** Element-wise minimum. */ MIN }

    /** {@return this process's rank, 0 ≤ rank &lt; size} */
    int rank();

    /** {@return the number of ranks} */
    int size();

    /**
     * Replaces {@code values} on every rank by their element-wise reduction over all ranks.
     *
     * @param values the local vector, the same length on every rank; overwritten with the result
     * @param op     the reduction
     * @throws CommunicatorException if the collective fails
     */
    void allReduce(long[] values, Reduction op);

    /**
     * Replaces {@code values} on every rank by their element-wise sum over all ranks.
     *
     * @param values the local vector, the same length on every rank; overwritten with the result
     * @throws CommunicatorException if the collective fails
     */
    void allReduceSum(double[] values);

    /**
     * Sends {@code send[offsets[r] .. offsets[r] + counts[r])} to rank r (offsets are the prefix sums
     * of counts) and returns what every rank sent here, in rank order, with the byte counts per source.
     *
     * @param send   the bytes for all ranks, rank by rank
     * @param counts int [size], bytes for each rank, each &ge; 0, summing to {@code send.length}
     * @return the bytes received, in source rank order
     * @throws IllegalArgumentException if {@code counts} does not match {@code send} or the group size
     * @throws CommunicatorException if the collective fails
     */
    Received allToAllV(byte[] send, int[] counts);

    /**
     * Every rank's {@code mine} (all the same length), in rank order.
     *
     * @param mine this rank's bytes
     * @return byte [size][mine.length], fresh arrays
     * @throws CommunicatorException if the ranks' lengths differ or the collective fails
     */
    byte[][] allGather(byte[] mine);

    /**
     * Waits until every rank has reached the barrier.
     *
     * @throws CommunicatorException if the collective fails
     */
    void barrier();

    /**
     * Ends the whole job with {@code code} (every rank, not just this one); used when one rank fails so
     * that the others do not wait forever in a collective. Never returns normally: if the process is
     * still alive afterwards (in-process groups, the single-process communicator), it throws.
     *
     * @param code   the exit code for the job
     * @param reason why, for the log and the exception
     * @throws CommunicatorException always, where the call returns at all
     */
    void abort(int code, String reason);

    /** {@return what this communicator is, for logs ("mpi rank 2 of 4 (Open MPI v4.1.4)")} */
    String describe();

    /**
     * Leaves the group (collective for MPI: every rank closes).
     *
     * @throws CommunicatorException if leaving fails
     */
    @Override
    void close();

    /**
     * Bytes received in an all-to-all-v.
     *
     * @param data   everything received, source rank by source rank
     * @param counts bytes from each source rank
     */
    record Received(byte[] data, int[] counts) {
        /**
         * Offset of source rank r's bytes in {@link #data()}.
         *
         * @param r the source rank
         * @return the sum of the counts of the ranks before it
         */
        public int offset(int r) {
            int o = 0;
            for (int i = 0; i < r; i++) {
                o += counts[i];
            }
            return o;
        }
    }

    /**
     * Checks an all-to-all-v request, for implementations.
     *
     * @param send   the send buffer
     * @param counts bytes for each rank
     * @param size   the group size
     * @return the total, {@code send.length}
     * @throws IllegalArgumentException if there is not one count per rank, a count is negative, or the
     *         counts do not sum to {@code send.length}
     */
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
