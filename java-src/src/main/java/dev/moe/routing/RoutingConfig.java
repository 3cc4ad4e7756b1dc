package dev.moe.routing;

import java.util.Locale;

/**
 * An immutable, validated routing configuration: N experts in G contiguous groups, keep the M best
 * groups per token, choose K experts among them (docs/specification.md §c, §d).
 *
 * <p>Validation follows docs/specification.md §k: N must split into G equal groups (#7), 1 &le; M &le; G with
 * M = G meaning "no group limit" (#9), K &le; M·(N/G) (#8), for group-limited TOP_J_SUM scoring
 * 1 &le; J &le; N/G (#7), and J defaults to K/M, which must then be an integer (#6; see
 * {@link Builder#groupTopJ(int)} to override).
 *
 * @param numExperts    N, routed experts
 * @param numGroups     G, expert groups (nodes for V3, devices for V2)
 * @param topkGroups    M, groups kept per token
 * @param topk          K, experts chosen per token
 * @param scoreFunction sigmoid (V3) or softmax (V2)
 * @param groupScore    how groups are ranked
 * @param groupTopJ     J for {@link GroupScore#TOP_J_SUM} (1 for {@link GroupScore#MAX})
 * @param normalize     renormalise the K chosen weights to sum to 1 (V3: true; V2: false)
 * @param routeScale    ρ, multiplies the final weights
 * @param biasMode      how a selection bias combines with the scores (ADD for DeepSeek-V3)
 */
public record RoutingConfig(int numExperts, int numGroups, int topkGroups, int topk, ScoreFunction scoreFunction,
                            GroupScore groupScore, int groupTopJ, boolean normalize, float routeScale, BiasMode biasMode) {

    /** Canonical constructor: validates everything except the K mod M rule (see the builder). */
    public RoutingConfig {
        if (scoreFunction == null || groupScore == null || biasMode == null) {
            throw new InvalidConfigException("score function, group score and bias mode must be given");
        }
        if (numExperts < 1) {
            throw new InvalidConfigException("number of experts N must be >= 1, got " + numExperts);
        }
        if (numGroups < 1) {
            throw new InvalidConfigException("number of groups G must be >= 1, got " + numGroups);
        }
        if (numExperts % numGroups != 0) {
            throw new InvalidConfigException("N=" + numExperts + " experts cannot be split into G=" + numGroups
                    + " equal groups (N mod G must be 0; docs/specification.md §k #7)");
        }
        if (topkGroups < 1 || topkGroups > numGroups) {
            throw new InvalidConfigException("groups kept per token M must be in 1..G=" + numGroups + ", got " + topkGroups
                    + " (M = G means no group limit; docs/specification.md §k #9)");
        }
        int groupSize = numExperts / numGroups;
        if (topk < 1 || (long) topk > (long) topkGroups * groupSize) {
            throw new InvalidConfigException("experts per token K must be in 1..M*(N/G)=" + ((long) topkGroups * groupSize)
                    + ", got " + topk + " (the kept groups must hold at least K experts; docs/specification.md §k #8)");
        }
        if (groupScore == GroupScore.MAX) {
            groupTopJ = 1;
        } else if (topkGroups < numGroups && (groupTopJ < 1 || groupTopJ > groupSize)) {
            throw new InvalidConfigException("group score sums the top J=" + groupTopJ + " experts of a group, but J must be in 1.."
                    + groupSize + " (the group size N/G; docs/specification.md §k #7)");
        } else if (groupTopJ < 1) {
            throw new InvalidConfigException("J must be >= 1, got " + groupTopJ);
        }
        if (!Float.isFinite(routeScale) || !(routeScale > 0f)) {
            throw new InvalidConfigException("route scale rho must be finite and > 0, got " + routeScale);
        }
    }

    /**
     * DeepSeek-V3 (671B): N 256, G 8, M 4, K 8, sigmoid, top-2-sum group score, renormalise, ρ 2.5.
     *
     * @return the DeepSeek-V3 configuration
     */
    public static RoutingConfig deepseekV3() {
        return builder().experts(256).groups(8).topkGroups(4).topk(8).scoreFunction(ScoreFunction.SIGMOID)
                .groupScore(GroupScore.TOP_J_SUM).groupTopJ(2).normalize(true).routeScale(2.5f).build();
    }

    /**
     * DeepSeek-V2 (236B): N 160, G 8, M 3, K 6, softmax, max group score, no renormalisation, ρ 16.
     *
     * @return the DeepSeek-V2 configuration
     */
    public static RoutingConfig deepseekV2() {
        return builder().experts(160).groups(8).topkGroups(3).topk(6).scoreFunction(ScoreFunction.SOFTMAX)
                .groupScore(GroupScore.MAX).normalize(false).routeScale(16.0f).build();
    }

    /**
     * A preset by name, ignoring case.
     *
     * @param name {@code deepseek-v3} or {@code deepseek-v2}
     * @return the preset's configuration
     * @throws InvalidConfigException if the name is neither
     */
    public static RoutingConfig preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "deepseek-v3" -> deepseekV3();
            case "deepseek-v2" -> deepseekV2();
            default -> throw new InvalidConfigException("unknown preset '" + name + "' (expected deepseek-v3 or deepseek-v2)");
        };
    }

    /** {@return experts per group, N/G} */
    public int groupSize() {
        return numExperts / numGroups;
    }

    /** {@return true when groups restrict the choice (M &lt; G)} */
    public boolean groupLimited() {
        return topkGroups < numGroups;
    }

    /** {@return a new builder; values not set default to DeepSeek-V3's} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this configuration's values, to override some of them. J is carried over as an
     * explicit value only for {@link GroupScore#TOP_J_SUM}.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().experts(numExperts).groups(numGroups).topkGroups(topkGroups).topk(topk)
                .scoreFunction(scoreFunction).groupScore(groupScore).normalize(normalize).routeScale(routeScale).biasMode(biasMode);
        if (groupScore == GroupScore.TOP_J_SUM) {
            b.groupTopJ(groupTopJ);
        }
        return b;
    }

    @Override
    public String toString() {
        return "RoutingConfig[N=" + numExperts + ", G=" + numGroups + ", M=" + topkGroups + ", K=" + topk + ", score="
                + scoreFunction.name().toLowerCase(Locale.ROOT) + ", group="
                + (groupScore == GroupScore.MAX ? "max" : "top" + groupTopJ + "sum") + ", normalize=" + normalize
                + ", scale=" + routeScale + (biasMode == BiasMode.ADD ? "" : ", bias=" + biasMode.cliName()) + "]";
    }

    /** Builds a {@link RoutingConfig}; unset values default to DeepSeek-V3's. */
    public static final class Builder {
        private int numExperts = 256;
        private int numGroups = 8;
        private int topkGroups = 4;
        private int topk = 8;
        private ScoreFunction scoreFunction = ScoreFunction.SIGMOID;
        private GroupScore groupScore = GroupScore.TOP_J_SUM;
        private Integer groupTopJ;
        private boolean normalize = true;
        private float routeScale = 2.5f;
        private BiasMode biasMode = BiasMode.ADD;

        private Builder() {}

        /**
         * Sets N, the number of routed experts.
         *
         * @param n N
         * @return this builder
         */
        public Builder experts(int n) {
            this.numExperts = n;
            return this;
        }

        /**
         * Sets G, the number of expert groups.
         *
         * @param g G
         * @return this builder
         */
        public Builder groups(int g) {
            this.numGroups = g;
            return this;
        }

        /**
         * Sets M, the number of groups kept per token.
         *
         * @param m M
         * @return this builder
         */
        public Builder topkGroups(int m) {
            this.topkGroups = m;
            return this;
        }

        /**
         * Sets K, the number of experts chosen per token.
         *
         * @param k K
         * @return this builder
         */
        public Builder topk(int k) {
            this.topk = k;
            return this;
        }

        /**
         * Sets how logits become scores.
         *
         * @param f the score function
         * @return this builder
         */
        public Builder scoreFunction(ScoreFunction f) {
            this.scoreFunction = f;
            return this;
        }

        /**
         * Sets how groups are ranked.
         *
         * @param s the group score
         * @return this builder
         */
        public Builder groupScore(GroupScore s) {
            this.groupScore = s;
            return this;
        }

        /**
         * Sets J of {@link GroupScore#TOP_J_SUM} explicitly. Unset, J = K/M, and K must then be a
         * multiple of M (docs/specification.md §k #6).
         *
         * @param j J, the number of largest scores summed per group
         * @return this builder
         */
        public Builder groupTopJ(int j) {
            this.groupTopJ = j;
            return this;
        }

        /**
         * Forgets an explicit J so that it is derived as K/M again.
         *
         * @return this builder
         */
        public Builder deriveGroupTopJ() {
            this.groupTopJ = null;
            return this;
        }

        /**
         * Sets whether the K chosen weights are renormalised to sum to 1.
         *
         * @param normalize true to renormalise
         * @return this builder
         */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        /**
         * Sets ρ, the factor applied to the final weights.
         *
         * @param rho ρ, finite and &gt; 0
         * @return this builder
         */
        public Builder routeScale(float rho) {
            this.routeScale = rho;
            return this;
        }

        /**
         * Sets how a selection bias combines with the scores.
         *
         * @param mode the bias mode
         * @return this builder
         */
        public Builder biasMode(BiasMode mode) {
            this.biasMode = mode;
            return this;
        }

        /**
         * Validates and builds. Setters do not validate; this does, with the rules of the record's canonical
         * constructor plus the K mod M rule when J is derived.
         *
         * @return the configuration
         * @throws InvalidConfigException if the values break a rule of docs/specification.md §k
         */
        public RoutingConfig build() {
            int j = 1;
            if (groupScore == GroupScore.TOP_J_SUM) {
                if (groupTopJ != null) {
                    j = groupTopJ;
                } else if (topkGroups >= 1 && topkGroups < numGroups) {
                    if (topk % topkGroups != 0) {
                        throw new InvalidConfigException("K=" + topk + " is not a multiple of M=" + topkGroups
                                + ", so J = K/M is not an integer; set J explicitly (docs/specification.md §k #6)");
                    }
                    j = topk / topkGroups;
                }
            }
            return new RoutingConfig(numExperts, numGroups, topkGroups, topk, scoreFunction, groupScore, j, normalize,
                    routeScale, biasMode);
        }
    }
}
