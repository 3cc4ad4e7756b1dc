package dev.moe.train;

import java.util.Arrays;
import java.util.function.Consumer;

import dev.moe.balance.BiasBalancer;
import dev.moe.balance.BiasState;
import dev.moe.balance.BiasUpdateRule;
import dev.moe.balance.GammaSchedule;
import dev.moe.dist.Communicator;
import dev.moe.loss.AuxLoss;
import dev.moe.loss.AuxLosses;
import dev.moe.metrics.LoadMetrics;
import dev.moe.routing.Router;
import dev.moe.sim.BalancerKind;

/**
 * The training loop: per step, the global batch's share of this process, forward, backward, the
 * gradients and expert loads summed over processes once, gradient clipping, AdamW, then the balancer.
 *
 * <p>Balancers: {@code loss-free} is DeepSeek-V3's bias ({@link BiasBalancer}, sign rule, constant γ),
 * fed each step the gate's fused load counts of the global batch and applied from the next step;
 * {@code aux-loss} adds an auxiliary balance loss per sequence (deepseek-v3: the sequence-wise loss with
 * α; deepseek-v2: the expert-, device- and communication-balance losses with α₁ = α and α₂, α₃ in V2's
 * ratios); {@code none} routes on the scores alone. Nothing is ever dropped.
 */
public final class Trainer {
    private final TrainSettings s;
    private final Corpus corpus;
    private final Communicator comm;
    private final MoeTransformer model;
    private final AdamW optimizer;
    private BiasBalancer balancer;
    private final AuxLoss aux;
    private final LearningRateSchedule schedule;
    private final float[] grad;
    private final float[] auxGate;
    private final int perRank;
    private int step;
    private StepTimer timer;

    /**
     * A run at step 0.
     *
     * @param settings the run's settings
     * @param corpus   the data
     * @param comm     the processes sharing the global batch (a single-process one without MPI)
     * @param gemm     the matrix multiply
     * @param router   the gate, configured as {@code settings.model().routing()}
     * @throws IllegalArgumentException if the global batch does not split evenly over the processes
     */
    public Trainer(TrainSettings settings, Corpus corpus, Communicator comm, Gemm gemm, Router router) {
        this.s = settings;
        this.corpus = corpus;
        this.comm = comm;
        if (settings.batch() % comm.size() != 0) {
            throw new IllegalArgumentException("--batch " + settings.batch() + " does not split evenly over " + comm.size()
                    + " processes");
        }
        this.perRank = settings.batch() / comm.size();
        TransformerConfig c = settings.model();
        this.model = new MoeTransformer(c, gemm, router, settings.precision(), settings.seed());
        this.optimizer = new AdamW(model.layout(), settings.weightDecay());
        this.balancer = settings.balancer() == BalancerKind.LOSS_FREE
                ? new BiasBalancer(c.layers(), c.experts(), BiasUpdateRule.SIGN, GammaSchedule.constant(settings.gamma()))
                : null;
        this.aux = settings.balancer() == BalancerKind.AUX_LOSS ? auxLoss(c, settings.alpha()) : null;
        this.schedule = new LearningRateSchedule(settings.lr(), settings.warmup(), settings.steps());
        this.grad = new float[model.layout().size()];
        this.auxGate = aux == null ? null : new float[c.layers() * c.experts() * c.dim()];
    }

    /**
     * The auxiliary loss of a preset: V3's sequence-wise loss, or V2's three losses with α₁ = α.
     *
     * @param c     the model
     * @param alpha α
     * @return the loss applied per sequence in every layer
     */
    static AuxLoss auxLoss(TransformerConfig c, double alpha) {
        return AuxLosses.forPreset(c.routing(), alpha);
    }

    /**
     * Measures where steps spend their time (null: not measured, the default).
     *
     * @param timer receives the time per part
     */
    public void setTimer(StepTimer timer) {
        this.timer = timer;
        model.setTimer(timer);
    }

    /** {@return the model being trained} */
    public MoeTransformer model() {
        return model;
    }

    /** {@return the optimizer} */
    public AdamW optimizer() {
        return optimizer;
    }

    /** {@return the bias balancer, or null unless loss-free} */
    public BiasBalancer balancer() {
        return balancer;
    }

    /** {@return the settings} */
    public TrainSettings settings() {
        return s;
    }

    /** {@return the last completed step (0 before the first)} */
    public int completedSteps() {
        return step;
    }

    /**
     * Restores a run's position (from a checkpoint; parameters and optimizer state are restored in place).
     *
     * @param completedSteps the last step that ran
     * @param bias           the balancer's state, or null unless loss-free
     */
    void resumeAt(int completedSteps, BiasState bias) {
        this.step = completedSteps;
        if (balancer != null) {
            balancer = BiasBalancer.restore(bias, BiasUpdateRule.SIGN, GammaSchedule.constant(s.gamma()));
        }
    }

    /**
     * Runs steps until {@code last}, reporting each.
     *
     * @param last     the last step to run (≤ settings.steps())
     * @param listener receives each step's record
     */
    public void run(int last, Consumer<TrainRecord> listener) {
        while (step < last) {
            listener.accept(nextStep());
        }
    }

    private float[][] biases() {
        if (balancer == null) {
            return null;
        }
        float[][] b = new float[s.model().layers()][];
        for (int l = 0; l < b.length; l++) {
            b[l] = balancer.bias(l);
        }
        return b;
    }

    /**
     * Runs the next step.
     *
     * @return its record
     */
    public TrainRecord nextStep() {
        step++;
        TransformerConfig c = s.model();
        int seq = c.seqLen();
        byte[] batch = corpus.trainBatch(s.seed(), step, comm.rank() * perRank, perRank, seq);
        Arrays.fill(grad, 0f);
        if (auxGate != null) {
            Arrays.fill(auxGate, 0f);
        }
        long globalTokens = s.tokensPerStep();
        MoeTransformer.ForwardResult fr = model.forward(batch, perRank, biases(), aux, (double) perRank / s.batch());
        model.backward((float) (1.0 / globalTokens), grad, auxGate);
        long now = System.nanoTime();
        long[][] loads = fr.loads();
        double[] sums = {fr.lossSum(), fr.auxLoss()};
        if (comm.size() > 1) {
            reduce(loads, sums);
        }
        double gateSq = 0;
        double auxSq = 0;
        double lmSq = 0;
        for (int l = 0; l < c.layers(); l++) {
            int off = model.layout().block(l).gate();
            int n = c.experts() * c.dim();
            for (int i = 0; i < n; i++) {
                float g = grad[off + i];
                gateSq += (double) g * g;
                if (auxGate != null) {
                    float a = auxGate[l * n + i];
                    auxSq += (double) a * a;
                    lmSq += (double) (g - a) * (g - a);
                }
            }
        }
        clip();
        float lr = schedule.at(step);
        optimizer.update(model.parameters(), grad, lr);
        model.parametersChanged();
        if (balancer != null) {
            balancer.endStep(loads, globalTokens);
        }
        if (timer != null) {
            now = timer.add(StepTimer.Part.OPTIMIZER, now);
        }
        double valLoss = Double.NaN;
        double maxVioGlobal = Double.NaN;
        double groups = Double.NaN;
        if (step % s.evalEvery() == 0 || step == s.steps()) {
            model.setTimer(null);
            Evaluation e = evaluate();
            model.setTimer(timer);
            valLoss = e.loss();
            maxVioGlobal = e.maxVio();
            groups = e.groupsPerToken();
            if (timer != null) {
                timer.add(StepTimer.Part.EVALUATION, now);
            }
        }
        double interference = Math.sqrt(auxSq);
        return new TrainRecord(step, sums[0] / globalTokens, valLoss, LoadMetrics.maxVio(loads), maxVioGlobal, sums[1],
                Math.sqrt(gateSq), interference, lmSq > 0 ? interference / Math.sqrt(lmSq) : 0.0, lr, groups,
                balancer == null ? null : balancer.bias(0).clone());
    }

    /** Sums each layer's expert loads over the processes, in place, in one all-reduce. */
    private void reduceLoads(long[][] loads) {
        int n = s.model().experts();
        long[] flat = new long[loads.length * n];
        for (int l = 0; l < loads.length; l++) {
            System.arraycopy(loads[l], 0, flat, l * n, n);
        }
        comm.allReduce(flat, Communicator.Reduction.SUM);
        for (int l = 0; l < loads.length; l++) {
            System.arraycopy(flat, l * n, loads[l], 0, n);
        }
    }

    /** Sums gradients, loads and the loss sums over the processes. */
    private void reduce(long[][] loads, double[] sums) {
        reduceLoads(loads);
        int auxLen = auxGate == null ? 0 : auxGate.length;
        double[] buf = new double[grad.length + auxLen + sums.length];
        for (int i = 0; i < grad.length; i++) {
            buf[i] = grad[i];
        }
        for (int i = 0; i < auxLen; i++) {
            buf[grad.length + i] = auxGate[i];
        }
        System.arraycopy(sums, 0, buf, grad.length + auxLen, sums.length);
        comm.allReduceSum(buf);
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (float) buf[i];
        }
        for (int i = 0; i < auxLen; i++) {
            auxGate[i] = (float) buf[grad.length + i];
        }
        System.arraycopy(buf, grad.length + auxLen, sums, 0, sums.length);
    }

    /** Scales the gradient to the clipping norm when its global L2 norm exceeds it. */
    private void clip() {
        double sq = 0;
        for (float g : grad) {
            sq += (double) g * g;
        }
        double norm = Math.sqrt(sq);
        if (norm > s.clipNorm()) {
            float f = (float) (s.clipNorm() / norm);
            for (int i = 0; i < grad.length; i++) {
                grad[i] *= f;
            }
        }
    }

    /**
     * Held-out figures.
     *
     * @param loss           mean cross-entropy over the held-out split, nats per byte
     * @param maxVio         MaxVio of the split's loads, mean over layers
     * @param tokens         bytes predicted
     * @param groupsPerToken expert groups (nodes) a token's experts span, mean over tokens and layers: the
     *                       copies a token's dispatch sends across groups
     */
    public record Evaluation(double loss, double maxVio, long tokens, double groupsPerToken) {}

    /**
     * The model on the whole held-out split, with the current bias and no auxiliary loss: windows split
     * over the processes, sums reduced once.
     *
     * @return the evaluation
     */
    public Evaluation evaluate() {
        TransformerConfig c = s.model();
        int seq = c.seqLen();
        int windows = corpus.heldOutWindows(seq);
        int per = Math.ceilDiv(windows, comm.size());
        int first = Math.min(windows, comm.rank() * per);
        int last = Math.min(windows, first + per);
        long[][] loads = new long[c.layers()][c.experts()];
        double[] sums = {0, 0, 0};
        float[][] biases = biases();
        for (int w = first; w < last; w += s.batch()) {
            int count = Math.min(s.batch(), last - w);
            MoeTransformer.ForwardResult r = model.forward(corpus.heldOutBatch(w, count, seq), count, biases, null, 0);
            sums[0] += r.lossSum();
            sums[1] += r.tokens();
            for (int l = 0; l < c.layers(); l++) {
                sums[2] += model.groupsUsed(l);
            }
            for (int l = 0; l < loads.length; l++) {
                for (int e = 0; e < c.experts(); e++) {
                    loads[l][e] += r.loads()[l][e];
                }
            }
        }
        if (comm.size() > 1) {
            reduceLoads(loads);
            comm.allReduceSum(sums);
        }
        return new Evaluation(sums[0] / sums[1], LoadMetrics.maxVio(loads), (long) sums[1], sums[2] / (sums[1] * c.layers()));
    }
}
