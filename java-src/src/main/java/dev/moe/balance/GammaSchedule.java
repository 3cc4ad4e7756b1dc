package dev.moe.balance;

/**
 * Token-based schedule of the bias update speed: γ until {@code freezeAfterTokens} tokens have been
 * trained on, then 0 (DeepSeek-V3: γ = 0.001 for the first 14.3T tokens, 0 for the last 500B; spec
 * §e.2, §k #16).
 *
 * @param gamma             update speed before the freeze
 * @param freezeAfterTokens tokens after which γ = 0 ({@link Long#MAX_VALUE}: never)
 */
public record GammaSchedule(float gamma, long freezeAfterTokens) {

    /**
     * Validates the schedule.
     *
     * @throws IllegalArgumentException if γ is negative or not finite, or the freeze point is negative
     */
    public GammaSchedule {
        if (!Float.isFinite(gamma) || gamma < 0) {
            throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        }
        if (freezeAfterTokens < 0) {
            throw new IllegalArgumentException("freeze point must be >= 0 tokens, got " + freezeAfterTokens);
        }
    }

    /**
     * A constant γ, never frozen.
     *
     * @param gamma the update speed, finite and &ge; 0
     * @return the schedule
     */
    public static GammaSchedule constant(float gamma) {
        return new GammaSchedule(gamma, Long.MAX_VALUE);
    }

    /** {@return DeepSeek-V3's schedule: 0.001 for the first 14.3T tokens, then frozen} */
    public static GammaSchedule deepseekV3() {
        return new GammaSchedule(0.001f, 14_300_000_000_000L);
    }

    /**
     * γ for a step that starts after {@code tokensSeen} tokens.
     *
     * @param tokensSeen tokens trained on before the step
     * @return {@code gamma} before the freeze point, else 0
     */
    public float gammaAt(long tokensSeen) {
        return tokensSeen < freezeAfterTokens ? gamma : 0f;
    }
}
