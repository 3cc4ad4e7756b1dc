package dev.moe.routing;

import java.util.Locale;

/** How router logits become affinity scores (docs/specification.md §b). */
public enum ScoreFunction {
    /** s = σ(z), independent per expert (DeepSeek-V3). */
    SIGMOID(0),
    /** s = softmax over all N experts (DeepSeek-V2). */
    SOFTMAX(1);

    private final int code;

    ScoreFunction(int code) {
        this.code = code;
    }

    /** {@return the MOE_SCORE_* code of the C ABI} */
    public int code() {
        return code;
    }

    /** {@return the command-line name: {@code sigmoid} or {@code softmax}} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a command-line name (exact, lower case).
     *
     * @param name {@code sigmoid} or {@code softmax}
     * @return the score function
     * @throws IllegalArgumentException if the name is neither
     */
    public static ScoreFunction parse(String name) {
        for (ScoreFunction f : values()) {
            if (f.cliName().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown score function '" + name + "' (expected sigmoid or softmax)");
    }
}
