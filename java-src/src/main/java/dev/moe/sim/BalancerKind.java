package dev.moe.sim;

import java.util.Locale;

/** How the simulator balances expert load. */
public enum BalancerKind {
    /** DeepSeek-V3 auxiliary-loss-free bias controller (docs/specification.md §e). */
    LOSS_FREE,
    /** Auxiliary losses only: their gradient trains per-expert logit offsets (docs/specification.md §f). */
    AUX_LOSS,
    /** No balancing: the router's own preferences decide. */
    NONE;

    /** {@return the command-line name: {@code loss-free}, {@code aux-loss} or {@code none}} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses a command-line name (exact).
     *
     * @param name {@code loss-free}, {@code aux-loss} or {@code none}
     * @return the balancer kind
     * @throws IllegalArgumentException if the name is none of these
     */
    public static BalancerKind parse(String name) {
        for (BalancerKind b : values()) {
            if (b.cliName().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown balancer '" + name + "' (expected loss-free, aux-loss or none)");
    }
}
