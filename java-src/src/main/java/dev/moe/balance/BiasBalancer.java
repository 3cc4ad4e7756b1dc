package dev.moe.balance;

import java.util.Arrays;

/**
 * DeepSeek-V3's auxiliary-loss-free load balancer for many MoE layers (spec §e): one FP32 bias per
 * layer and expert, steering only which experts are selected. After each step the global-batch
 * per-expert counts (int64, e.g. the fused gate's histogram summed over micro-batches and ranks) go
 * into {@link #endStep}; the new bias applies from the next step on. Layers that saw no tokens keep
 * their bias (spec §k #10). Not thread-safe: one controller per training loop.
 */
public final class BiasBalancer {
    private final float[][] bias;
    private final BiasUpdateRule rule;
    private final GammaSchedule schedule;
    private long step;
    private long tokensSeen;

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

    /** Restores a controller from a saved state. */
    public static BiasBalancer restore(BiasState state, BiasUpdateRule rule, GammaSchedule schedule) {
        BiasBalancer b = new BiasBalancer(state.layers(), state.numExperts(), rule, schedule);
        for (int l = 0; l < state.layers(); l++) {
            b.bias[l] = state.bias()[l].clone();
        }
        b.step = state.step();
        b.tokensSeen = state.tokensSeen();
        return b;
    }

    /** The live bias of one layer (float [N]); read it to route the next step, do not modify it. */
    public float[] bias(int layer) {
        return bias[layer];
    }

    public int layers() {
        return bias.length;
    }

    public int numExperts() {
        return bias[0].length;
    }

    public long step() {
        return step;
    }

    public long tokensSeen() {
        return tokensSeen;
    }

    public BiasUpdateRule rule() {
        return rule;
    }

    /** γ that the next {@link #endStep} will use. */
    public float currentGamma() {
        return schedule.gammaAt(tokensSeen);
    }

    /**
     * Ends a training step: updates every layer's bias from its counts (int64 [layers][N]) with the
     * γ the schedule gives at the tokens seen so far, then counts {@code tokensInStep}.
     */
    public void endStep(long[][] counts, long tokensInStep) {
        if (counts.length != bias.length) {
            throw new IllegalArgumentException("counts for " + counts.length + " layers, but the balancer has " + bias.length);
        }
        if (tokensInStep < 0) {
            throw new IllegalArgumentException("tokens in step must be >= 0, got " + tokensInStep);
        }
        float gamma = currentGamma();
        for (int l = 0; l < bias.length; l++) {
            long[] c = counts[l];
            if (c.length != bias[l].length) {
                throw new IllegalArgumentException("layer " + l + ": counts for " + c.length + " experts, expected " + bias[l].length);
            }
            long sum = 0;
            for (long v : c) {
                if (v < 0) {
                    throw new IllegalArgumentException("layer " + l + ": negative count " + v);
                }
                sum += v;
            }
            if (sum > 0 && gamma > 0) {
                rule.apply(bias[l], c, gamma);
            }
        }
        step++;
        tokensSeen += tokensInStep;
    }

    /** A snapshot of the state, for {@link BiasStateFile#save}. */
    public BiasState snapshot() {
        float[][] copy = new float[bias.length][];
        for (int l = 0; l < bias.length; l++) {
            copy[l] = bias[l].clone();
        }
        return new BiasState(step, tokensSeen, rule.name(), copy);
    }

    @Override
    public String toString() {
        return "BiasBalancer[" + bias.length + " layers x " + bias[0].length + " experts, rule " + rule.name() + ", step " + step
                + ", tokens " + tokensSeen + ", bias[0] " + Arrays.toString(Arrays.copyOf(bias[0], Math.min(4, bias[0].length)))
                + "...]";
    }
}
