/**
 * Process groups for data and expert parallelism (docs/specification.md §d, §e.3): the collectives the simulator and
 * the expert-parallel layer need, behind one interface, {@link dev.moe.dist.Communicator}. Public API.
 *
 * <ul>
 *   <li>{@link dev.moe.dist.SelfCommunicator}: one process, no MPI.</li>
 *   <li>{@link dev.moe.dist.MpiCommunicator}: MPI through the shim {@code libmoe_mpi}, for runs started
 *       by {@code mpirun}.</li>
 *   <li>{@link dev.moe.dist.LocalGroup}: ranks as threads of one JVM, for tests.</li>
 * </ul>
 * Every call is collective; a failure throws {@link dev.moe.dist.CommunicatorException} and leaves the
 * group unusable.
 */
package dev.moe.dist;
