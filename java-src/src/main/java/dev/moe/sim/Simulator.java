package dev.moe.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.moe.balance.BiasBalancer;
import dev.moe.balance.GammaSchedule;
import dev.moe.metrics.DispatchStats;
import dev.moe.metrics.LoadMetrics;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;

/**
 * The balancing loop over a synthetic router (spec §l harness): each step generates every layer's
 * logits, routes them (the fused gate also counts the per-expert load), measures MaxVio and dispatch
 * traffic, and lets the balancer update from the step's global-batch counts, which take effect from
 * the next step. Deterministic per seed and bit-identical across backends.
 */
public final class Simulator {
    private final SimulationSettings s;

    public Simulator(SimulationSettings settings) {
        this.s = settings;
    }

    /** Runs all steps; {@code onStep} sees each record as it is produced (e.g. a progress bar). */
    public SimulationResult run(Consumer<StepRecord> onStep) {
        RoutingConfig c = s.config();
        int n = c.numExperts();
        int k = c.topk();
        int t = s.tokensPerStep();
        Router router = Routers.create(c, s.backend());
        SyntheticRouter gen = new SyntheticRouter(s.layers(), n, s.workload(), s.seed());
        BiasBalancer balancer = new BiasBalancer(s.layers(), n, s.rule(), GammaSchedule.constant(s.gamma()));
        boolean useBias = s.balancer() == BalancerKind.LOSS_FREE;
        List<StepRecord> records = new ArrayList<>(s.steps());
        float[][] biasHistory = new float[s.steps()][];
        float[][] loadHistory = new float[s.steps()][];
        long balancerNanos = 0;
        long start = System.nanoTime();
        // Shared: the workload generator fills the logits from several threads.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * n);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, (long) t * k);
            MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * k);
            MemorySegment bias = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, n);
            long[][] counts = new long[s.layers()][];
            for (int step = 0; step < s.steps(); step++) {
                long cross = 0;
                double nodesPerToken = 0;
                int maxNodes = 0;
                for (int layer = 0; layer < s.layers(); layer++) {
                    gen.fill(layer, step, t, logits);
                    load.fill((byte) 0);
                    if (useBias) {
                        MemorySegment.copy(balancer.bias(layer), 0, bias, ValueLayout.JAVA_FLOAT, 0, n);
                    }
                    router.route(logits, t, useBias ? bias : null, ids, weights, load);
                    counts[layer] = load.toArray(ValueLayout.JAVA_LONG);
                    DispatchStats d = DispatchStats.of(ids, t, k, s.topology());
                    cross += d.crossNodeSends();
                    nodesPerToken += d.meanNodesPerToken();
                    maxNodes = Math.max(maxNodes, d.maxNodesPerToken());
                }
                float gamma = useBias ? balancer.currentGamma() : 0f;
                long b0 = System.nanoTime();
                if (useBias) {
                    balancer.endStep(counts, t);
                }
                balancerNanos += System.nanoTime() - b0;
                float[] bias0 = balancer.bias(0);
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (float v : bias0) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                biasHistory[step] = bias0.clone();
                double[] rel = LoadMetrics.relative(counts[0]);
                float[] relF = new float[n];
                for (int i = 0; i < n; i++) {
                    relF[i] = (float) rel[i];
                }
                loadHistory[step] = relF;
                StepRecord r = new StepRecord(step, LoadMetrics.maxVio(counts), 0, cross, nodesPerToken / s.layers(), maxNodes,
                        gamma, lo, hi);
                records.add(r);
                onStep.accept(r);
            }
            long elapsed = System.nanoTime() - start;
            double global = heldOutMaxVio(router, gen, balancer, useBias, arena);
            return new SimulationResult(records, global, biasHistory, loadHistory,
                    (double) s.steps() * t * s.layers() / (elapsed / 1e9), (double) balancerNanos / elapsed);
        }
    }

    /** MaxVio_global: the final bias on a fixed held-out token set (spec §e.5), averaged over layers. */
    private double heldOutMaxVio(Router router, SyntheticRouter gen, BiasBalancer balancer, boolean useBias, Arena arena) {
        int n = s.config().numExperts();
        int t = s.heldOutTokens();
        MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * n);
        MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, (long) t * s.config().topk());
        MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * s.config().topk());
        MemorySegment bias = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, n);
        long[][] counts = new long[s.layers()][];
        for (int layer = 0; layer < s.layers(); layer++) {
            // A step index the run never uses: its own tokens, drawn like a batch at the end of training.
            gen.fill(layer, -1 - (long) s.steps(), t, logits);
            load.fill((byte) 0);
            MemorySegment.copy(balancer.bias(layer), 0, bias, ValueLayout.JAVA_FLOAT, 0, n);
            router.route(logits, t, useBias ? bias : null, ids, weights, load);
            counts[layer] = load.toArray(ValueLayout.JAVA_LONG);
        }
        return LoadMetrics.maxVio(counts);
    }
}
