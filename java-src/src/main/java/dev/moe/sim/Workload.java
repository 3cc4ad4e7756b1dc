package dev.moe.sim;

import java.util.Locale;

/**
 * Synthetic router workloads (docs/specification.md §l harness): logits z[t,i] = u_t·e_i + β_i + noise, where u_t comes
 * from a mixture of "domains" and β_i is a static per-expert popularity offset.
 */
public enum Workload {
    /** Domains mixed uniformly, no popularity offsets: balanced on average, noisy per batch. */
    UNIFORM("domains mixed uniformly, no per-expert popularity"),
    /** Uniform domain mix plus static per-expert popularity offsets (std 0.6): a few hot experts. */
    SKEWED("uniform domain mix plus static per-expert popularity (std 0.6)"),
    /** Popularity offsets plus a domain mix that drifts over steps (period 500 steps). */
    DRIFT("per-expert popularity plus a domain mix drifting with period 500 steps");

    private final String description;

    Workload(String description) {
        this.description = description;
    }

    /** {@return a one-line description, for help texts} */
    public String description() {
        return description;
    }

    /** {@return the command-line name: {@code uniform}, {@code skewed} or {@code drift}} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a command-line name (exact).
     *
     * @param name {@code uniform}, {@code skewed} or {@code drift}
     * @return the workload
     * @throws IllegalArgumentException if the name is none of these
     */
    public static Workload parse(String name) {
        for (Workload w : values()) {
            if (w.cliName().equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "' (expected uniform, skewed or drift)");
    }
}
