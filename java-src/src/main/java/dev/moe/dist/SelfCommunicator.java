package dev.moe.dist;

/** The group of one: every collective is the identity. Single-process runs use it; it needs no MPI. */
public final class SelfCommunicator implements Communicator {
    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduce(long[] values, Reduction op) {
        // One rank: the reduction of a single vector is itself.
    }

    @Override
    public void allReduceSum(double[] values) {
        // As above.
    }

    @Override
    public Received allToAllV(byte[] send, int[] counts) {
        Communicator.checkCounts(send, counts, 1);
        return new Received(send.clone(), counts.clone());
    }

    @Override
    public byte[][] allGather(byte[] mine) {
        return new byte[][] {mine.clone()};
    }

    @Override
    public void barrier() {
        // Nothing to wait for.
    }

    @Override
    public void abort(int code, String reason) {
        throw new CommunicatorException("aborted (exit code " + code + "): " + reason);
    }

    @Override
    public String describe() {
        return "single process (no MPI)";
    }

    @Override
    public void close() {
        // Nothing held.
    }
}
