package dev.moe.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.routing.RoutingConfig;
import dev.moe.sim.BalancerKind;
import dev.moe.sim.SimulationResult;
import dev.moe.sim.SimulationSettings;
import dev.moe.sim.Simulator;
import dev.moe.sim.Workload;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;

/** The data-parallel balancing loop on an in-process group of threads (the MPI test runs it across processes). */
class DistributedSimulationTest {

    static SimulationSettings settings(int steps, int tokens) {
        RoutingConfig c = RoutingConfig.deepseekV3();
        return SimulationSettings.builder().routing(c, Topology.contiguous(8, 8, 256), GroupScope.NODE).layers(2).steps(steps)
                .tokensPerStep(tokens).workload(Workload.SKEWED).balancer(BalancerKind.LOSS_FREE).seed(7)
                .backend(Backend.JAVA).heldOutTokens(1024).build();
    }

    /** Runs {@code body} on every rank of a thread group; returns the results in rank order. */
    static <T> List<T> onRanks(int ranks, Function<Communicator, T> body) throws InterruptedException {
        List<Communicator> group = LocalGroup.create(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Communicator c : group) {
                futures.add(pool.submit(() -> body.apply(c)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fourRanksReproduceTheSingleProcessRunBitForBit() throws Exception {
        // 2560 tokens = 10 blocks of 256: uneven shards (2, 3, 2, 3 blocks).
        SimulationSettings s = settings(30, 2560);
        SimulationResult single = new Simulator(s).run(r -> { });
        List<SimulationResult> ranks = onRanks(4, c -> new Simulator(s, c).run(r -> { }));
        for (SimulationResult r : ranks) {
            assertEquals(single.csv(), r.csv());
            assertEquals(single.maxVioGlobal(), r.maxVioGlobal());
            assertArrayEquals(single.biasHistory()[29], r.biasHistory()[29]);
            assertEquals(4, r.parallel().ranks());
            assertEquals(1, r.parallel().biasChecks());  // step 29 is the last step
        }
        assertEquals(2560, ranks.stream().mapToInt(r -> r.parallel().tokensPerRank()).sum());
        assertTrue(single.last().intraNodeForwards() > 0);
    }

    @Test
    void aFailingRankFailsEveryRank() {
        SimulationSettings s = settings(10, 1024);
        RuntimeException e = assertThrows(RuntimeException.class, () -> onRanks(3, c -> {
            try {
                return new Simulator(s, c).failAt(new Simulator.FailurePoint(1, 4)).run(r -> { });
            } catch (RuntimeException ex) {
                if (c.rank() == 1) {
                    c.abort(1, ex.getMessage());
                }
                throw ex;
            }
        }));
        assertTrue(e.getMessage().contains("rank 1"), e.getMessage());
    }

    @Test
    void auxLossIsRefusedWhenDistributed() {
        SimulationSettings s = SimulationSettings.builder().routing(RoutingConfig.deepseekV3(), Topology.contiguous(8, 8, 256),
                GroupScope.NODE).steps(2).tokensPerStep(512).balancer(BalancerKind.AUX_LOSS).backend(Backend.JAVA).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Simulator(s, LocalGroup.create(2).get(0)));
        assertTrue(e.getMessage().contains("single process"), e.getMessage());
    }

    @Test
    void mpiWithoutMpirunIsAClearUsageError() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = dev.moe.cli.MoeCli.run(new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err),
                "simulate", "--mpi", "--steps", "1", "--csv", "/nonexistent/never.csv");
        Assumptions.assumeFalse(MpiCommunicator.startedByLauncher(System.getenv()), "this JVM itself runs under mpirun");
        assertEquals(2, code);
        assertTrue(err.toString().contains("not started by mpirun"), err.toString());
    }

    @Test
    void mpiCommunicatorRefusesAnEnvironmentWithoutALauncher() {
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> MpiCommunicator.world(java.util.Map.of()));
        assertTrue(e.getMessage().contains("mpirun -np N"), e.getMessage());
    }
}
