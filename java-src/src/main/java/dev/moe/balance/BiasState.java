package dev.moe.balance;

/**
 * A saved balancer state.
 *
 * @param step       steps completed
 * @param tokensSeen tokens trained on (drives the γ schedule)
 * @param rule       the update rule the bias was made with
 * @param bias       float [layers][N]
 */
public record BiasState(long step, long tokensSeen, BiasUpdateRule rule, float[][] bias) {

    /** {@return the number of layers, {@code bias.length}} */
    public int layers() {
        return bias.length;
    }

    /** {@return N, the length of a layer's bias (0 if there are no layers)} */
    public int numExperts() {
        return bias.length == 0 ? 0 : bias[0].length;
    }
}
