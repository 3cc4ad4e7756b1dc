package dev.moe.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.moe.balance.BiasUpdateRule;
import dev.moe.routing.Backend;
import dev.moe.routing.RoutingConfig;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;

class SimulatorTest {

    static SimulationSettings v3(BalancerKind balancer, Backend backend, int steps, int tokens, Workload w) {
        return new SimulationSettings(RoutingConfig.deepseekV3(), Topology.contiguous(8, 8, 256), GroupScope.NODE, 1, steps,
                tokens, w, balancer, 0.002f, BiasUpdateRule.SIGN, 0f, 7, backend, 2048);
    }

    @Test
    void lossFreeBalancingBeatsNoBalancingAndNeverDrops() {
        SimulationResult none = new Simulator(v3(BalancerKind.NONE, Backend.CPU, 250, 2048, Workload.SKEWED)).run(r -> { });
        SimulationResult lf = new Simulator(v3(BalancerKind.LOSS_FREE, Backend.CPU, 250, 2048, Workload.SKEWED)).run(r -> { });
        double noneTail = none.meanMaxVioLast(50);
        double lfTail = lf.meanMaxVioLast(50);
        assertTrue(noneTail > 3, "the skewed workload should be badly imbalanced without balancing: " + noneTail);
        assertTrue(lfTail < 0.2 * noneTail, "loss-free " + lfTail + " vs none " + noneTail);
        assertTrue(lf.maxVioGlobal() < 0.2 * none.maxVioGlobal(), lf.maxVioGlobal() + " vs " + none.maxVioGlobal());
        assertEquals(0, lf.totalDropped());
        assertTrue(lf.steps().stream().allMatch(s -> s.maxNodesPerToken() <= 4));
        assertTrue(lf.last().biasMax() > 0 && lf.last().biasMin() < 0);
        assertTrue(none.last().biasMax() == 0 && none.last().biasMin() == 0);
    }

    @Test
    void sameSeedSameCsvOnEveryBackend() {
        String java = new Simulator(v3(BalancerKind.LOSS_FREE, Backend.JAVA, 25, 300, Workload.DRIFT)).run(r -> { }).csv();
        String cpu = new Simulator(v3(BalancerKind.LOSS_FREE, Backend.CPU, 25, 300, Workload.DRIFT)).run(r -> { }).csv();
        assertEquals(java, cpu);
        String again = new Simulator(v3(BalancerKind.LOSS_FREE, Backend.CPU, 25, 300, Workload.DRIFT)).run(r -> { }).csv();
        assertEquals(cpu, again);
        assertTrue(java.startsWith("step,maxvio_batch,dropped,cross_node_sends,mean_nodes_per_token"));
        assertEquals(26, java.lines().count());
    }

    @Test
    void v2DeviceLimitedRoutingReachesAtMostThreeDevices() {
        Topology eightGpus = Topology.contiguous(8, 1, 160);  // one GPU per "node": devices = nodes
        SimulationSettings s = new SimulationSettings(RoutingConfig.deepseekV2(), eightGpus, GroupScope.DEVICE, 2, 20, 512,
                Workload.UNIFORM, BalancerKind.NONE, 0f, BiasUpdateRule.SIGN, 0f, 3, Backend.CPU, 512);
        SimulationResult r = new Simulator(s).run(x -> { });
        assertTrue(r.steps().stream().allMatch(x -> x.maxNodesPerToken() <= 3));
    }
}
