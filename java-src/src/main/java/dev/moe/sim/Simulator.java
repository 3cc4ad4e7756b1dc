package dev.moe.sim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.moe.balance.BiasBalancer;
import dev.moe.balance.GammaSchedule;
import dev.moe.dist.Communicator;
import dev.moe.dist.CommunicatorException;
import dev.moe.dist.SelfCommunicator;
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
 * The balancing loop over a synthetic router (docs/specification.md §l harness): each step generates every layer's
 * logits, routes them (the fused gate also counts the per-expert load), drops assignments over a
 * device's budget when the run drops (docs/specification.md §g.1), measures MaxVio and dispatch traffic, and lets the
 * balancer learn from the step: the loss-free bias from the global-batch counts after dropping (spec
 * §e.3), the aux-loss offsets from the loss gradient. Either takes effect from the next step.
 * MaxVio_batch is measured on the router's choices (before dropping): it is the imbalance the
 * balancer is meant to remove. Deterministic per seed and bit-identical across backends.
 *
 * <p>Data-parallel runs (a {@link Communicator} of several ranks, e.g. under mpirun): each rank
 * generates and routes its shard of every step's batch (whole blocks of the same global batch), the
 * per-expert counts and traffic figures are all-reduced once per step, and every rank applies the same
 * bias update to the global counts (docs/specification.md §e.3). Without dropping, the records equal the single-process
 * run's bit for bit. With dropping, capacity is enforced per rank's micro-batch (as a real trainer
 * does), so drops differ from a single process. Every {@value #BIAS_CHECK_INTERVAL} steps and at the
 * end the ranks compare a hash of the bias and fail if any differs. The aux-loss baseline is
 * single-process only.
 */
public final class Simulator {
    /** Steps between cross-rank checks that the bias is bit-identical on every rank. */
    public static final int BIAS_CHECK_INTERVAL = 100;
    private final SimulationSettings s;
    private final Communicator comm;
    private FailurePoint failAt;

    /**
     * A single-process simulator.
     *
     * @param settings what to simulate
     */
    public Simulator(SimulationSettings settings) {
        this(settings, new SelfCommunicator());
    }

    /**
     * A simulator that runs as one rank of {@code comm} (data-parallel when it has several ranks).
     *
     * @param settings what to simulate, the same on every rank
     * @param comm     the process group
     * @throws IllegalArgumentException if the aux-loss baseline is asked for with several ranks, or there
     *         are fewer tokens per step than ranks
     */
    public Simulator(SimulationSettings settings, Communicator comm) {
        this.s = settings;
        this.comm = comm;
        if (comm.size() > 1 && settings.balancer() == BalancerKind.AUX_LOSS) {
            throw new IllegalArgumentException("the aux-loss baseline runs in a single process only (its logit offsets "
                    + "would need a gradient all-reduce); use --balancer loss-free or none with MPI");
        }
        if (settings.tokensPerStep() < comm.size()) {
            throw new IllegalArgumentException(settings.tokensPerStep() + " tokens per step cannot be shared by " + comm.size()
                    + " ranks");
        }
    }

    /**
     * Test hook: rank {@code rank} throws at step {@code step} (to check that a failing rank ends the whole job).
     *
     * @param rank the rank that fails
     * @param step the step at whose start it fails
     */
    public record FailurePoint(int rank, int step) {}

    /**
     * Test hook: makes {@link #run} throw an {@link IllegalStateException} on one rank at one step.
     *
     * @param point where to fail, or null for never
     * @return this simulator
     */
    public Simulator failAt(FailurePoint point) {
        this.failAt = point;
        return this;
    }

    /**
     * Runs all steps; {@code onStep} sees each record as it is produced (e.g. a progress bar). Collective
     * when the communicator has several ranks. A simulator is not thread-safe; run it from one thread.
     *
     * @param onStep called with each step's record, on the calling thread
     * @return the records and end-of-run metrics
     * @throws dev.moe.backend.BackendUnavailableException if the settings' backend cannot run here
     * @throws CommunicatorException if a collective fails or the ranks' biases diverge
     */
    public SimulationResult run(Consumer<StepRecord> onStep) {
        RoutingConfig c = s.config();
        int n = c.numExperts();
        int k = c.topk();
        int t = s.tokensPerStep();
        int layers = s.layers();
        int[] range = SyntheticRouter.shard(t, comm.rank(), comm.size());
        int first = range[0];
        int mine = range[1] - range[0];
        Router router = Routers.create(c, s.backend());
        SyntheticRouter gen = new SyntheticRouter(layers, n, s.workload(), s.seed());
        BiasBalancer balancer = new BiasBalancer(layers, n, s.rule(), GammaSchedule.constant(s.gamma()));
        boolean useBias = s.balancer() == BalancerKind.LOSS_FREE;
        AuxLossTrainer aux = s.balancer() == BalancerKind.AUX_LOSS
                ? new AuxLossTrainer(c, layers, s.alpha(), s.auxLearningRate()) : null;
        CapacityDropper dropper = s.drops() ? CapacityDropper.deviceLevel(n, s.topology().gpus(), s.capacityFactor()) : null;
        List<StepRecord> records = new ArrayList<>(s.steps());
        float[][] biasHistory = new float[s.steps()][];
        float[][] loadHistory = new float[s.steps()][];
        long balancerNanos = 0;
        long[] stepNanos = new long[s.steps()];
        int biasChecks = 0;
        // One all-reduce (sum) per step: routed and dispatched counts of every layer, then per layer the
        // cross-node sends, node visits, intra-node forwards and drops; one (max) for nodes per token.
        int sumLength = Math.toIntExact(2L * layers * n + 4L * layers);
        long[] sums = new long[sumLength];
        long[] maxes = new long[1];
        long start = System.nanoTime();
        // Shared: the workload generator fills the logits from several threads.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment logits = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1L, (long) mine * n));
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, Math.max(1L, (long) mine * k));
            MemorySegment weights = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1L, (long) mine * k));
            MemorySegment bias = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, n);
            long[][] routed = new long[layers][n];
            long[][] dispatched = new long[layers][n];
            for (int step = 0; step < s.steps(); step++) {
                long s0 = System.nanoTime();
                if (failAt != null && failAt.rank() == comm.rank() && failAt.step() == step) {
                    throw new IllegalStateException("injected failure on rank " + comm.rank() + " at step " + step);
                }
                java.util.Arrays.fill(sums, 0);
                int maxNodes = 0;
                double auxLoss = 0;
                double auxGrad = 0;
                for (int layer = 0; layer < layers; layer++) {
                    gen.fill(layer, step, first, mine, logits);
                    if (aux != null) {
                        aux.addOffsets(layer, logits, mine);
                    }
                    load.fill((byte) 0);
                    if (useBias) {
                        MemorySegment.copy(balancer.bias(layer), 0, bias, ValueLayout.JAVA_FLOAT, 0, n);
                    }
                    router.route(logits, mine, useBias ? bias : null, ids, weights, load);
                    long[] routedLocal = load.toArray(ValueLayout.JAVA_LONG);
                    long[] dispatchedLocal = routedLocal;
                    int[] chosen = null;
                    float[] gates = null;
                    if (dropper != null || aux != null) {
                        chosen = ids.asSlice(0, (long) mine * k * Integer.BYTES).toArray(ValueLayout.JAVA_INT);
                        gates = weights.asSlice(0, (long) mine * k * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
                    }
                    long dropped = 0;
                    if (dropper != null) {
                        DropResult dr = dropper.apply(mine, k, chosen, gates);
                        dropped = dr.totalDropped();
                        MemorySegment.copy(dr.ids(), 0, ids, ValueLayout.JAVA_INT, 0, dr.ids().length);
                        dispatchedLocal = counts(dr.ids(), n);
                    }
                    DispatchStats d = DispatchStats.of(ids, mine, k, s.topology(), first);
                    System.arraycopy(routedLocal, 0, sums, layer * n, n);
                    System.arraycopy(dispatchedLocal, 0, sums, (layers + layer) * n, n);
                    int at = 2 * layers * n + 4 * layer;
                    sums[at] = d.crossNodeSends();
                    sums[at + 1] = nodeVisits(d);
                    sums[at + 2] = d.intraNodeForwards();
                    sums[at + 3] = dropped;
                    maxNodes = Math.max(maxNodes, d.maxNodesPerToken());
                    if (aux != null) {
                        long a0 = System.nanoTime();
                        // The loss sees the router's own choice (before dropping), as V2's f does.
                        RoutingResult r = new RoutingResult(mine, k, chosen, gates, routedLocal, new GateStats(mine, 0));
                        AuxLossResult lr = aux.train(layer, logits.toArray(ValueLayout.JAVA_FLOAT), r);
                        auxLoss += lr.value();
                        auxGrad += lr.gradNorm();
                        balancerNanos += System.nanoTime() - a0;
                    }
                }
                if (comm.size() > 1) {
                    comm.allReduce(sums, Communicator.Reduction.SUM);
                    maxes[0] = maxNodes;
                    comm.allReduce(maxes, Communicator.Reduction.MAX);
                    maxNodes = (int) maxes[0];
                }
                long cross = 0;
                long dropped = 0;
                long forwards = 0;
                double nodesPerToken = 0;
                for (int layer = 0; layer < layers; layer++) {
                    System.arraycopy(sums, layer * n, routed[layer], 0, n);
                    System.arraycopy(sums, (layers + layer) * n, dispatched[layer], 0, n);
                    int at = 2 * layers * n + 4 * layer;
                    cross += sums[at];
                    nodesPerToken += t == 0 ? 0.0 : (double) sums[at + 1] / t;
                    forwards += sums[at + 2];
                    dropped += sums[at + 3];
                }
                float gamma = useBias ? balancer.currentGamma() : 0f;
                long b0 = System.nanoTime();
                if (useBias) {
                    balancer.endStep(dispatched, t);
                }
                balancerNanos += System.nanoTime() - b0;
                if (comm.size() > 1 && (step % BIAS_CHECK_INTERVAL == BIAS_CHECK_INTERVAL - 1 || step == s.steps() - 1)) {
                    checkBiasAgrees(balancer, step);
                    biasChecks++;
                }
                float[] param0 = aux != null ? aux.offsets(0) : balancer.bias(0);
                biasHistory[step] = param0.clone();
                loadHistory[step] = relativeLoad(routed[0]);
                StepRecord r = new StepRecord(step, LoadMetrics.maxVio(routed), dropped, cross, nodesPerToken / layers,
                        maxNodes, gamma, min(param0), max(param0), auxLoss / layers, auxGrad / layers, forwards);
                records.add(r);
                stepNanos[step] = System.nanoTime() - s0;
                onStep.accept(r);
            }
            long elapsed = System.nanoTime() - start;
            HeldOut held = heldOut(router, gen, balancer, useBias, aux, arena);
            ParallelStats parallel = new ParallelStats(comm.size(), mine, stepNanos, 8L * (sumLength + maxes.length), biasChecks);
            return new SimulationResult(records, held.global(), COMPUTATION_BATCHES.clone(), held.byBatch(), biasHistory, loadHistory,
                    (double) s.steps() * t * layers / (elapsed / 1e9), (double) balancerNanos / elapsed, parallel);
        }
    }

    /** Σ over tokens of the nodes each reached. */
    private static long nodeVisits(DispatchStats d) {
        long acc = 0;
        for (int j = 0; j < d.nodesPerToken().length; j++) {
            acc += j * d.nodesPerToken()[j];
        }
        return acc;
    }

    /**
     * Fails on every rank unless all hold the same bias bits: the loss-free loop is only correct if the
     * ranks route with one bias (docs/specification.md §e.3). Compares a 64-bit hash by one max all-reduce of (h, ~h).
     */
    private void checkBiasAgrees(BiasBalancer balancer, int step) {
        long h = 0xcbf29ce484222325L;
        for (int layer = 0; layer < balancer.layers(); layer++) {
            for (float b : balancer.bias(layer)) {
                h = (h ^ Float.floatToRawIntBits(b)) * 0x100000001b3L;
            }
        }
        long[] v = {h, ~h};
        comm.allReduce(v, Communicator.Reduction.MAX);
        if (v[0] != h || ~v[1] != h) {
            throw new CommunicatorException("the ranks' biases differ after step " + step + " (hash on rank " + comm.rank() + " "
                    + Long.toHexString(h) + ", max " + Long.toHexString(v[0]) + ", min " + Long.toHexString(~v[1])
                    + "): the balancing loop has diverged");
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
     * The final bias or offsets on a fixed held-out token set (docs/specification.md §e.5), averaged over layers:
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
