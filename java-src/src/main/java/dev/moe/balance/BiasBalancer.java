package dev.moe.balance;

import java.util.Arrays;

/**
 * DeepSeek-V3's auxiliary-loss-free load balancer for many MoE layers (docs/specification.md §e): one FP32 bias per
 * layer and expert, steering only which experts are selected. After each step the global-batch
 * per-expert counts (int64, e.g. the fused gate's histogram summed over micro-batches and ranks) go
 * into {@link #endStep}; the new bias applies from the next step on. Layers that saw no tokens keep
 * their bias (docs/specification.md §k #10). Not thread-safe: one controller per training loop.
 */
public final class BiasBalancer {
    private final float[][] bias;
    private final BiasUpdateRule rule;
    private final GammaSchedule schedule;
    private long step;
    private long tokensSeen;

    /**
     * A controller with every bias at the rule's neutral value (0 for additive rules, 1 for
     * {@link BiasUpdateRule#MULTIPLICATIVE}), at step 0 with no tokens seen.
     *
     * @param layers     number of MoE layers, &ge; 1
     * @param numExperts N, routed experts per layer, &ge; 1
     * @param rule       how the bias moves after each step
     * @param schedule   γ as a function of the tokens seen
     * @throws IllegalArgumentException if {@code layers} or {@code numExperts} is less than 1
     */
    public BiasBalancer(int layers, int numExperts, BiasUpdateRule rule, GammaSchedule schedule) {
        if (layers < 1 || numExperts < 1) {
            throw new IllegalArgumentException("need at least one layer and one expert, got " + layers + " x " + numExperts);
        }
        this.bias = new float[layers][numExperts];
        float neutral = rule.mode().neutral();
        for (float[] b : bias) {
            Arrays.fill(b, neutral);
        }
        this.rule = rule;
        this.schedule = schedule;
    }

    /**
     * Restores a controller from a saved state (copying its bias). The state must have been made with the
     * same rule: a bias saved by one rule (e.g. multiplicative, neutral 1) means something else to another.
     *
     * @param state    the saved state, e.g. from {@link BiasStateFile#load}
     * @param rule     the update rule to continue with
     * @param schedule the γ schedule to continue with
     * @return a controller at the saved step, tokens seen and bias
     * @throws IllegalArgumentException when the state was saved with another rule
     */
    public static BiasBalancer restore(BiasState state, BiasUpdateRule rule, GammaSchedule schedule) {
        if (state.rule() != rule) {
            throw new IllegalArgumentException("the bias state was saved with rule '" + state.rule().cliName() + "', not '"
                    + rule.cliName() + "': restore it with the same rule");
        }
        BiasBalancer b = new BiasBalancer(state.layers(), state.numExperts(), rule, schedule);
        for (int l = 0; l < state.layers(); l++) {
            b.bias[l] = state.bias()[l].clone();
        }
        b.step = state.step();
        b.tokensSeen = state.tokensSeen();
        return b;
    }

    /**
     * The live bias of one layer; read it to route the next step, do not modify it. The array is
     * updated in place by {@link #endStep}.
     *
     * @param layer layer index, 0 &le; layer &lt; {@link #layers()}
     * @return float [N], the layer's bias
     */
    public float[] bias(int layer) {
        return bias[layer];
    }

    /** {@return the number of MoE layers} */
    public int layers() {
        return bias.length;
    }

    /** {@return N, the number of experts per layer} */
    public int numExperts() {
        return bias[0].length;
    }

    /** {@return the number of steps ended so far} */
    public long step() {
        return step;
    }

    /** {@return the tokens counted by {@link #endStep} so far (drives the γ schedule)} */
    public long tokensSeen() {
        return tokensSeen;
    }

    /** {@return the update rule} */
    public BiasUpdateRule rule() {
        return rule;
    }

    /** {@return γ that the next {@link #endStep} will use} */
    public float currentGamma() {
        return schedule.gammaAt(tokensSeen);
    }

    /**
     * Ends a training step: updates every layer's bias from its counts with the γ the schedule gives at
     * the tokens seen so far, then counts {@code tokensInStep}. A layer whose counts sum to 0, or any
     * layer when γ is 0, keeps its bias.
     *
     * @param counts       int64 [layers][N], per-expert token counts of this step (global batch), each &ge; 0
     * @param tokensInStep tokens trained on in this step, &ge; 0
     * @throws IllegalArgumentException if the shape of {@code counts} does not match, a count is
     *         negative, or {@code tokensInStep} is negative (a layer may already have been updated
     *         when a later layer's counts are rejected)
     */
    public void endStep(long[][] counts, long tokensInStep) {
        if (counts.length != bias.length) {
            throw new IllegalArgumentException("counts for " + counts.length + " layers, but the balancer has " + bias.length);
        }
        if (tokensInStep < 0) {
            throw new IllegalArgumentException("tokens in step must be >= 0, got " + tokensInStep);
        }
        float gamma = currentGamma();
        // Every layer's counts are checked before any bias moves: a bad layer leaves the state untouched.
        long[] sums = new long[bias.length];
        for (int l = 0; l < bias.length; l++) {
            long[] c = counts[l];
            if (c == null || c.length != bias[l].length) {
                throw new IllegalArgumentException("layer " + l + ": counts for " + (c == null ? "no" : String.valueOf(c.length))
                        + " experts, expected " + bias[l].length);
            }
            for (long v : c) {
                if (v < 0) {
                    throw new IllegalArgumentException("layer " + l + ": negative count " + v);
                }
                sums[l] += v;
            }
        }
        for (int l = 0; l < bias.length; l++) {
            if (sums[l] > 0 && gamma > 0) {
                rule.apply(bias[l], counts[l], gamma);
            }
        }
        step++;
        tokensSeen += tokensInStep;
    }

    /** {@return a deep copy of the state, for {@link BiasStateFile#save}} */
    public BiasState snapshot() {
        float[][] copy = new float[bias.length][];
        for (int l = 0; l < bias.length; l++) {
            copy[l] = bias[l].clone();
        }
        return new BiasState(step, tokensSeen, rule, copy);
    }

    @Override
    public String toString() {
        return "BiasBalancer[" + bias.length + " layers x " + bias[0].length + " experts, rule " + rule.cliName() + ", step " + step
                + ", tokens " + tokensSeen + ", bias[0] " + Arrays.toString(Arrays.copyOf(bias[0], Math.min(4, bias[0].length)))
                + "...]";
    }
}
