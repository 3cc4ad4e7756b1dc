package dev.moe.cli;

import java.util.concurrent.Callable;

import dev.moe.dist.Communicator;
import dev.moe.dist.CommunicatorException;
import dev.moe.dist.MpiCommunicator;
import dev.moe.dist.SelfCommunicator;
import picocli.CommandLine.Option;

/**
 * The {@code --mpi} option of the commands that can run as one rank of an {@code mpirun} job, and how
 * such a run ends: rank 0 reports, every rank finalises MPI, and a rank that fails aborts the whole job
 * (MPI_Abort) so that the others do not wait forever in a collective and mpirun exits non-zero.
 */
final class MpiOption {
    @Option(names = "--mpi", description = "Run as one rank of an MPI job: start with 'mpirun -np N ./moe ... --mpi' "
            + "(Open MPI: apt-get install openmpi-bin libopenmpi-dev).")
    boolean mpi;

    /** The communicator: MPI_COMM_WORLD with --mpi, else the single process. */
    Communicator open() {
        if (!mpi) {
            return new SelfCommunicator();
        }
        if (!MpiCommunicator.startedByLauncher(System.getenv())) {
            throw new UsageException("--mpi: this run was not started by mpirun; start it as 'mpirun -np N ./moe ... --mpi', "
                    + "or leave out --mpi for a single-process run");
        }
        return MpiCommunicator.world();
    }

    /**
     * Runs {@code body} on {@code comm}; with several ranks a failure aborts the job with the exit code
     * the CLI would give it (2 for bad input, 1 otherwise), after printing the reason.
     */
    static int run(Communicator comm, Callable<Integer> body) throws Exception {
        int code;
        try {
            code = body.call();
        } catch (Exception | Error e) {
            if (comm.size() > 1) {
                boolean usage = e instanceof UsageException || e instanceof IllegalArgumentException
                        || e instanceof dev.moe.io.FileArgumentException;
                comm.abort(usage ? MoeCli.EXIT_USAGE : MoeCli.EXIT_FAILURE, e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            throw e;
        }
        try {
            comm.close();
        } catch (CommunicatorException e) {
            // The work is done and written; a failing finalise is reported but does not undo it.
            System.err.println("moe: " + e.getMessage());
        }
        return code;
    }
}
