/**
 * The load-balancing simulator (docs/specification.md §l harness): a training loop over synthetic router workloads that
 * routes every step, measures MaxVio, drops and dispatch traffic, and lets a balancer (loss-free bias,
 * auxiliary loss, or none) learn from it. Configure a run with
 * {@link dev.moe.sim.SimulationSettings}, run it with {@link dev.moe.sim.Simulator} (single process or
 * data-parallel over a {@link dev.moe.dist.Communicator}), and read {@link dev.moe.sim.SimulationResult}.
 * Deterministic per seed and bit-identical across backends. Public API.
 */
package dev.moe.sim;
