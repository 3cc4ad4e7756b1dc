package dev.moe.balance;

/**
 * A saved balancer state.
 *
 * @param step       steps completed
 * @param tokensSeen tokens trained on (drives the γ schedule)
 * @param rule       name of the update rule
 * @param bias       float [layers][N]
 */
public record BiasState(long step, long tokensSeen, String rule, float[][] bias) {

    public int layers() {
        return bias.length;
    }

    public int numExperts() {
        return bias.length == 0 ? 0 : bias[0].length;
    }
}
