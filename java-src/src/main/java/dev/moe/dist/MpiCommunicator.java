package dev.moe.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.moe.bindings.moe_mpi_h;
import dev.moe.nativelib.MoeNative;
import dev.moe.nativelib.NativeLibraryException;

/**
 * {@link Communicator} over MPI, through the shim libmoe_mpi (native/include/moe/moe_mpi.h). One per
 * process ({@link #world()}); calls are serialised (the shim asks for MPI_THREAD_SERIALIZED). Buffers
 * cross the boundary as FFM segments of a confined arena per call.
 */
public final class MpiCommunicator implements Communicator {
    private static final Logger LOG = LoggerFactory.getLogger(MpiCommunicator.class);
    /** Variables a launcher (Open MPI's mpirun, PMIx, Hydra/PMI) sets in every rank's environment. */
    static final List<String> LAUNCHER_VARIABLES = List.of("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE");
    private static MpiCommunicator world;

    private final int rank;
    private final int size;
    private final String library;
    private boolean closed;

    private MpiCommunicator(int rank, int size, String library) {
        this.rank = rank;
        this.size = size;
        this.library = library;
    }

    /**
     * This process's communicator over MPI_COMM_WORLD, initialising MPI on first use; later calls return
     * the same instance.
     *
     * @return the world communicator
     * @throws CommunicatorException with the fix when the run was not started by a launcher (mpirun),
     *         when MPI or the shim cannot be loaded, when MPI_Init fails, or when MPI was already
     *         finalised in this process
     */
    public static synchronized MpiCommunicator world() {
        return world(System.getenv());
    }

    static synchronized MpiCommunicator world(Map<String, String> env) {
        if (world != null) {
            if (world.closed) {
                throw new CommunicatorException("MPI was already finalised in this process; it cannot be started again");
            }
            return world;
        }
        if (!startedByLauncher(env)) {
            throw new CommunicatorException("this run was not started by mpirun (none of " + LAUNCHER_VARIABLES
                    + " is set): start it as 'mpirun -np N ./moe ...', or leave out --mpi for a single-process run");
        }
        try {
            MoeNative.mpi();
        } catch (NativeLibraryException e) {
            throw new CommunicatorException("MPI is not usable: " + e.getMessage() + "\n(install MPI with 'apt-get install "
                    + "openmpi-bin libopenmpi-dev'; libmoe_mpi is built only where MPI was found at build time)", e);
        } catch (UnsatisfiedLinkError e) {
            throw new CommunicatorException("MPI is not usable: " + e.getMessage(), e);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment s = arena.allocate(ValueLayout.JAVA_INT);
            check(moe_mpi_h.moe_mpi_init(r, s), "MPI_Init");
            MemorySegment text = arena.allocate(512);
            String lib = moe_mpi_h.moe_mpi_library_version(text, 512) == 0 ? firstLine(text.getString(0)) : "unknown MPI";
            world = new MpiCommunicator(r.get(ValueLayout.JAVA_INT, 0), s.get(ValueLayout.JAVA_INT, 0), lib);
            LOG.debug("MPI up: {}", world.describe());
            return world;
        }
    }

    /**
     * Whether the environment says a launcher started this process as one rank of a job.
     *
     * @param env the environment, e.g. {@link System#getenv()}
     * @return true if any of the launcher variables (Open MPI, PMIx, Hydra/PMI) is set
     */
    public static boolean startedByLauncher(Map<String, String> env) {
        return LAUNCHER_VARIABLES.stream().anyMatch(env::containsKey);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = (nl < 0 ? s : s.substring(0, nl)).trim();
        int comma = line.indexOf(',');
        return comma < 0 ? line : line.substring(0, comma);
    }

    static void check(int status, String what) {
        if (status != moe_mpi_h.MOE_MPI_OK()) {
            String text;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(512);
                moe_mpi_h.moe_mpi_error_string(status, buf, 512);
                text = buf.getString(0);
            }
            throw new CommunicatorException(what + " failed: " + text);
        }
    }

    private void open() {
        if (closed) {
            throw new CommunicatorException("the MPI communicator is closed");
        }
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
    public synchronized void allReduce(long[] values, Reduction op) {
        open();
        int code = switch (op) {
            case SUM -> moe_mpi_h.MOE_MPI_SUM();
            case MAX -> moe_mpi_h.MOE_MPI_MAX();
            case MIN -> moe_mpi_h.MOE_MPI_MIN();
        };
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_LONG, values);
            check(moe_mpi_h.moe_mpi_allreduce_i64(buf, values.length, code), "MPI_Allreduce");
            MemorySegment.copy(buf, ValueLayout.JAVA_LONG, 0, values, 0, values.length);
        }
    }

    @Override
    public synchronized void allReduceSum(double[] values) {
        open();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            check(moe_mpi_h.moe_mpi_allreduce_f64(buf, values.length), "MPI_Allreduce");
            MemorySegment.copy(buf, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    @Override
    public synchronized Received allToAllV(byte[] send, int[] counts) {
        open();
        Communicator.checkCounts(send, counts, size);
        try (Arena arena = Arena.ofConfined()) {
            long[] sc = new long[size];
            long[] sd = new long[size];
            long off = 0;
            for (int r = 0; r < size; r++) {
                sc[r] = counts[r];
                sd[r] = off;
                off += counts[r];
            }
            // First the sizes (one int64 per pair of ranks), then the bytes.
            MemorySegment recvCounts = arena.allocate(ValueLayout.JAVA_LONG, size);
            check(moe_mpi_h.moe_mpi_alltoall_i64(arena.allocateFrom(ValueLayout.JAVA_LONG, sc), recvCounts, 1), "MPI_Alltoall");
            long[] rc = recvCounts.toArray(ValueLayout.JAVA_LONG);
            long[] rd = new long[size];
            long total = 0;
            for (int r = 0; r < size; r++) {
                rd[r] = total;
                total += rc[r];
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new CommunicatorException("all-to-all-v would receive " + total + " bytes on rank " + rank + " (limit 2 GiB)");
            }
            MemorySegment sendBuf = arena.allocate(Math.max(1, send.length));
            MemorySegment.copy(send, 0, sendBuf, ValueLayout.JAVA_BYTE, 0, send.length);
            MemorySegment recvBuf = arena.allocate(Math.max(1, total));
            check(moe_mpi_h.moe_mpi_alltoallv_bytes(sendBuf, arena.allocateFrom(ValueLayout.JAVA_LONG, sc),
                    arena.allocateFrom(ValueLayout.JAVA_LONG, sd), recvBuf, arena.allocateFrom(ValueLayout.JAVA_LONG, rc),
                    arena.allocateFrom(ValueLayout.JAVA_LONG, rd)), "MPI_Alltoallv");
            byte[] data = new byte[(int) total];
            MemorySegment.copy(recvBuf, ValueLayout.JAVA_BYTE, 0, data, 0, data.length);
            int[] counts32 = new int[size];
            for (int r = 0; r < size; r++) {
                counts32[r] = (int) rc[r];
            }
            return new Received(data, counts32);
        }
    }

    @Override
    public synchronized byte[][] allGather(byte[] mine) {
        open();
        try (Arena arena = Arena.ofConfined()) {
            // Everyone must send the same length; check that first so a mismatch is an error, not corruption.
            long[] len = {mine.length, -mine.length};
            allReduce(len, Reduction.MAX);
            if (len[0] != mine.length || -len[1] != mine.length) {
                throw new CommunicatorException("all-gather: ranks disagree on the length (rank " + rank + " has " + mine.length + ")");
            }
            MemorySegment recv = arena.allocate(Math.max(1, (long) mine.length * size));
            check(moe_mpi_h.moe_mpi_allgather_bytes(arena.allocateFrom(ValueLayout.JAVA_BYTE, mine), recv, mine.length),
                    "MPI_Allgather");
            byte[][] out = new byte[size][mine.length];
            for (int r = 0; r < size; r++) {
                MemorySegment.copy(recv, ValueLayout.JAVA_BYTE, (long) r * mine.length, out[r], 0, mine.length);
            }
            return out;
        }
    }

    @Override
    public synchronized void barrier() {
        open();
        check(moe_mpi_h.moe_mpi_barrier(), "MPI_Barrier");
    }

    @Override
    public void abort(int code, String reason) {
        // Not synchronized: another thread may be stuck inside a collective holding the lock.
        System.err.println("moe: rank " + rank + " of " + size + " aborts the job (exit code " + code + "): " + reason);
        System.err.flush();
        moe_mpi_h.moe_mpi_abort(code);
        throw new CommunicatorException("MPI_Abort returned; rank " + rank + " stops: " + reason);
    }

    @Override
    public String describe() {
        return "mpi rank " + rank + " of " + size + " (" + library + ")";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        check(moe_mpi_h.moe_mpi_finalize(), "MPI_Finalize");
    }
}
