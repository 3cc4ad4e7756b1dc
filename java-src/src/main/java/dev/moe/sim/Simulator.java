package dev.moe.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.moe.balance.BiasBalancer;
import dev.moe.balance.GammaSchedule;
import dev.moe.loss.AuxLossResult;
import dev.moe.loss.CapacityDropper;
import dev.moe.loss.DropResult;
import dev.moe.metrics.DispatchStats;
import dev.moe.metrics.LoadMetrics;
import dev.moe.routing.GateStats;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;

/**
 * The balancing loop over a synthetic router (spec §l harness): each step generates every layer's
 * logits, routes them (the fused gate also counts the per-expert load), drops assignments over a
 * device's budget when the run drops (spec §g.1), measures MaxVio and dispatch traffic, and lets the
 * balancer learn from the step: the loss-free bias from the global-batch counts after dropping (spec
 * §e.3), the aux-loss offsets from the loss gradient. Either takes effect from the next step.
 * MaxVio_batch is measured on the router's choices (before dropping): it is the imbalance the
 * balancer is meant to remove. Deterministic per seed and bit-identical across backends.
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
        AuxLossTrainer aux = s.balancer() == BalancerKind.AUX_LOSS
                ? new AuxLossTrainer(c, s.layers(), s.alpha(), s.auxLearningRate()) : null;
        CapacityDropper dropper = s.drops() ? CapacityDropper.deviceLevel(n, s.topology().gpus(), s.capacityFactor()) : null;
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
            long[][] routed = new long[s.layers()][];
            long[][] dispatched = new long[s.layers()][];
            for (int step = 0; step < s.steps(); step++) {
                long cross = 0;
                long dropped = 0;
                double nodesPerToken = 0;
                int maxNodes = 0;
                double auxLoss = 0;
                double auxGrad = 0;
                for (int layer = 0; layer < s.layers(); layer++) {
                    gen.fill(layer, step, t, logits);
                    if (aux != null) {
                        aux.addOffsets(layer, logits, t);
                    }
                    load.fill((byte) 0);
                    if (useBias) {
                        MemorySegment.copy(balancer.bias(layer), 0, bias, ValueLayout.JAVA_FLOAT, 0, n);
                    }
                    router.route(logits, t, useBias ? bias : null, ids, weights, load);
                    routed[layer] = load.toArray(ValueLayout.JAVA_LONG);
                    dispatched[layer] = routed[layer];
                    int[] chosen = null;
                    float[] gates = null;
                    if (dropper != null || aux != null) {
                        chosen = ids.toArray(ValueLayout.JAVA_INT);
                        gates = weights.toArray(ValueLayout.JAVA_FLOAT);
                    }
                    if (dropper != null) {
                        DropResult dr = dropper.apply(t, k, chosen, gates);
                        dropped += dr.totalDropped();
                        MemorySegment.copy(dr.ids(), 0, ids, ValueLayout.JAVA_INT, 0, dr.ids().length);
                        dispatched[layer] = counts(dr.ids(), n);
                    }
                    DispatchStats d = DispatchStats.of(ids, t, k, s.topology());
                    cross += d.crossNodeSends();
                    nodesPerToken += d.meanNodesPerToken();
                    maxNodes = Math.max(maxNodes, d.maxNodesPerToken());
                    if (aux != null) {
                        long a0 = System.nanoTime();
                        // The loss sees the router's own choice (before dropping), as V2's f does.
                        RoutingResult r = new RoutingResult(t, k, chosen, gates, routed[layer], new GateStats(t, 0));
                        AuxLossResult lr = aux.train(layer, logits.toArray(ValueLayout.JAVA_FLOAT), r);
                        auxLoss += lr.value();
                        auxGrad += lr.gradNorm();
                        balancerNanos += System.nanoTime() - a0;
                    }
                }
                float gamma = useBias ? balancer.currentGamma() : 0f;
                long b0 = System.nanoTime();
                if (useBias) {
                    balancer.endStep(dispatched, t);
                }
                balancerNanos += System.nanoTime() - b0;
                float[] param0 = aux != null ? aux.offsets(0) : balancer.bias(0);
                biasHistory[step] = param0.clone();
                loadHistory[step] = relativeLoad(routed[0]);
                StepRecord r = new StepRecord(step, LoadMetrics.maxVio(routed), dropped, cross, nodesPerToken / s.layers(),
                        maxNodes, gamma, min(param0), max(param0), auxLoss / s.layers(), auxGrad / s.layers());
                records.add(r);
                onStep.accept(r);
            }
            long elapsed = System.nanoTime() - start;
            HeldOut held = heldOut(router, gen, balancer, useBias, aux, arena);
            return new SimulationResult(records, held.global(), COMPUTATION_BATCHES.clone(), held.byBatch(), biasHistory, loadHistory,
                    (double) s.steps() * t * s.layers() / (elapsed / 1e9), (double) balancerNanos / elapsed);
        }
    }

    private static long[] counts(int[] ids, int n) {
        long[] c = new long[n];
        for (int e : ids) {
            if (e >= 0) {
                c[e]++;
            }
        }
        return c;
    }

    private static float[] relativeLoad(long[] counts) {
        double[] rel = LoadMetrics.relative(counts);
        float[] f = new float[rel.length];
        for (int i = 0; i < rel.length; i++) {
            f[i] = (float) rel[i];
        }
        return f;
    }

    private static float min(float[] v) {
        float m = Float.POSITIVE_INFINITY;
        for (float x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static float max(float[] v) {
        float m = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    /** Computation-batch sizes at which the held-out set's MaxVio is also measured ([LF] §5.1). */
    static final int[] COMPUTATION_BATCHES = {64, 256, 1024, 4096, 16384};

    private record HeldOut(double global, double[] byBatch) {}

    /**
     * The final bias or offsets on a fixed held-out token set (spec §e.5), averaged over layers:
     * MaxVio_global over the whole set, and MaxVio_computation-batch for each of {@link #COMPUTATION_BATCHES}.
     */
    private HeldOut heldOut(Router router, SyntheticRouter gen, BiasBalancer balancer, boolean useBias,
                            AuxLossTrainer aux, Arena arena) {
        int n = s.config().numExperts();
        int k = s.config().topk();
        int t = s.heldOutTokens();
        MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * n);
        MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, (long) t * k);
        MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * k);
        MemorySegment bias = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, n);
        long[][] counts = new long[s.layers()][];
        double[] byBatch = new double[COMPUTATION_BATCHES.length];
        for (int layer = 0; layer < s.layers(); layer++) {
            // A step index the run never uses: its own tokens, drawn like a batch at the end of training.
            gen.fill(layer, -1 - (long) s.steps(), t, logits);
            if (aux != null) {
                aux.addOffsets(layer, logits, t);
            }
            load.fill((byte) 0);
            MemorySegment.copy(balancer.bias(layer), 0, bias, ValueLayout.JAVA_FLOAT, 0, n);
            router.route(logits, t, useBias ? bias : null, ids, weights, load);
            counts[layer] = load.toArray(ValueLayout.JAVA_LONG);
            int[] chosen = ids.toArray(ValueLayout.JAVA_INT);
            for (int q = 0; q < byBatch.length; q++) {
                byBatch[q] += LoadMetrics.maxVioPerBatch(chosen, k, n, COMPUTATION_BATCHES[q]) / s.layers();
            }
        }
        return new HeldOut(LoadMetrics.maxVio(counts), byBatch);
    }
}
