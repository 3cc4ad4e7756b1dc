package dev.moe.sim;

import dev.moe.balance.BiasUpdateRule;
import dev.moe.routing.Backend;
import dev.moe.routing.RoutingConfig;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;

/**
 * Everything one simulation run depends on.
 *
 * @param config        router configuration (groups = nodes for V3, = GPUs for V2)
 * @param topology      cluster and expert placement
 * @param scope         whether router groups are nodes or devices
 * @param layers        MoE layers simulated (MaxVio is averaged over them)
 * @param steps         training steps
 * @param tokensPerStep tokens in each step's global batch
 * @param workload      synthetic router workload
 * @param balancer      balancing method
 * @param gamma         bias update speed (loss-free)
 * @param rule          bias update rule (loss-free)
 * @param alpha         auxiliary-loss coefficient (aux-loss)
 * @param seed          seed of the workload
 * @param backend       routing backend
 * @param heldOutTokens tokens of the held-out set used for MaxVio_global at the end
 */
public record SimulationSettings(RoutingConfig config, Topology topology, GroupScope scope, int layers, int steps,
                                 int tokensPerStep, Workload workload, BalancerKind balancer, float gamma, BiasUpdateRule rule,
                                 float alpha, long seed, Backend backend, int heldOutTokens) {

    public SimulationSettings {
        topology.requireGroupsMatch(config, scope);
        if (layers < 1 || steps < 1 || tokensPerStep < 1 || heldOutTokens < 1) {
            throw new IllegalArgumentException("layers, steps, tokens per step and held-out tokens must be >= 1");
        }
        if (!Float.isFinite(gamma) || gamma < 0) {
            throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        }
        if (!Float.isFinite(alpha) || alpha < 0) {
            throw new IllegalArgumentException("alpha must be finite and >= 0, got " + alpha);
        }
    }
}
