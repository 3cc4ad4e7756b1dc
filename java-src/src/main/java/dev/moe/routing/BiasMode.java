package dev.moe.routing;

import java.util.Locale;

/**
 * How a per-expert selection bias b combines with the scores s to rank experts (docs/specification.md §e.1, §e.4).
 * Either way the bias only steers selection; gate weights come from the unbiased scores.
 */
public enum BiasMode {
    /** sel = s + b, b starts at 0 (DeepSeek-V3, [LF] Algorithm 1). */
    ADD(0),
    /** sel = s · b, b starts at 1 ([LF] §4.3 multiplicative variant). */
    MULTIPLY(1);

    private final int code;

    BiasMode(int code) {
        this.code = code;
    }

    /** {@return the command-line name: {@code add} or {@code multiply}} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@return the MOE_BIAS_* code of the C ABI} */
    public int code() {
        return code;
    }

    /** {@return the bias value that leaves selection unchanged: 0 for ADD, 1 for MULTIPLY} */
    public float neutral() {
        return this == ADD ? 0f : 1f;
    }

    /**
     * The selection score of one expert.
     *
     * @param score the expert's affinity score s
     * @param bias  the expert's selection bias b
     * @return sel = s + b (ADD) or s · b (MULTIPLY)
     */
    public float apply(float score, float bias) {
        return this == ADD ? score + bias : score * bias;
    }
}
