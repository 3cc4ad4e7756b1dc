package dev.moe.balance;

import java.util.Locale;

import dev.moe.routing.BiasMode;

/**
 * How the loss-free controller moves each expert's selection bias from one step's loads
 * (docs/specification.md §e.1, §e.4). Overloaded experts go down, underloaded go up.
 */
public enum BiasUpdateRule {
    /**
     * [LF] Algorithm 1 / DeepSeek-V3: b_i += γ·sign(c̄ − c_i), c̄ = Σc/N; an expert exactly at the mean
     * is unchanged (sign(0) = 0). The sign is decided exactly in integers (Σc − N·c_i).
     */
    SIGN {
        @Override
        public void apply(float[] bias, long[] counts, float gamma) {
            long sum = total(counts);
            long n = counts.length;
            for (int i = 0; i < bias.length; i++) {
                long diff = sum - n * counts[i];
                if (diff > 0) {
                    bias[i] += gamma;
                } else if (diff < 0) {
                    bias[i] -= gamma;
                }
            }
        }
    },

    /**
     * [LF] §4.3 proportional variant: b_i += γ·(c̄ − c_i)/c̄. The paper leaves the units of the error
     * unspecified; we normalise by the mean load so that γ is comparable across batch sizes.
     */
    PROPORTIONAL {
        @Override
        public void apply(float[] bias, long[] counts, float gamma) {
            long sum = total(counts);
            double mean = (double) sum / counts.length;
            for (int i = 0; i < bias.length; i++) {
                float err = (float) ((mean - counts[i]) / mean);
                bias[i] += gamma * err;
            }
        }
    },

    /**
     * [LF] §4.3 multiplicative variant: select on s·b with b starting at 1. The paper does not give
     * the update; we use b_i ← b_i·(1 + γ·sign(c̄ − c_i)) (sign decided as in {@link #SIGN}), which
     * keeps b positive (a negative b would invert the ranking) and moves it by the same relative
     * step whatever its size. Routers must use {@link BiasMode#MULTIPLY} with this rule.
     */
    MULTIPLICATIVE {
        @Override
        public BiasMode mode() {
            return BiasMode.MULTIPLY;
        }

        @Override
        public void apply(float[] bias, long[] counts, float gamma) {
            if (!(gamma < 1f)) {
                throw new IllegalArgumentException("the multiplicative rule needs gamma < 1 (b *= 1 - gamma must stay > 0), got " + gamma);
            }
            long sum = total(counts);
            long n = counts.length;
            float up = 1f + gamma;
            float down = 1f - gamma;
            for (int i = 0; i < bias.length; i++) {
                long diff = sum - n * counts[i];
                if (diff > 0) {
                    bias[i] *= up;
                } else if (diff < 0) {
                    bias[i] *= down;
                }
            }
        }
    };

    /**
     * Updates {@code bias} in place from this step's per-expert {@code counts} (Σ counts &gt; 0).
     *
     * @param bias   float [N], the layer's bias, updated in place
     * @param counts int64 [N], tokens routed to each expert in this step
     * @param gamma  the update speed γ (u in [LF])
     * @throws IllegalArgumentException if γ is out of the rule's range ({@link #MULTIPLICATIVE} needs γ &lt; 1)
     */
    public abstract void apply(float[] bias, long[] counts, float gamma);

    /** {@return how the bias this rule maintains combines with the scores when selecting experts} */
    public BiasMode mode() {
        return BiasMode.ADD;
    }

    /** {@return the name used in state files and on the command line: sign, proportional or multiplicative} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Σ counts. */
    private static long total(long[] counts) {
        long sum = 0;
        for (long c : counts) {
            sum += c;
        }
        return sum;
    }

    /**
     * The rule with this name.
     *
     * @param name {@code sign}, {@code proportional} or {@code multiplicative} (see {@link #cliName()})
     * @return the rule
     * @throws IllegalArgumentException if the name is none of these
     */
    public static BiasUpdateRule byName(String name) {
        for (BiasUpdateRule r : values()) {
            if (r.cliName().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown bias update rule '" + name + "' (expected sign, proportional or multiplicative)");
    }
}
