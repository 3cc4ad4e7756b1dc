package dev.moe.train;

import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;

/**
 * The shape of a byte-level decoder-only MoE transformer: {@code layers} blocks of pre-RMSNorm causal
 * multi-head attention (RoPE) and a DeepSeek-style MoE feed-forward (shared SwiGLU expert(s) plus
 * routed SwiGLU experts chosen by the library's gate), over a vocabulary of the 256 byte values.
 *
 * <p>The gate follows a preset's score function and group rule: {@code deepseek-v3} = sigmoid scores,
 * groups ranked by the sum of their top-2 biased scores, the K chosen weights renormalised to 1;
 * {@code deepseek-v2} = softmax scores, groups ranked by their best score, no renormalisation. The route
 * scale ρ is 1 (DeepSeek's 2.5 and 16 belong to their 256- and 160-expert models).
 *
 * @param layers        transformer blocks, &ge; 1
 * @param dim           model width d, a multiple of {@code heads}
 * @param heads         attention heads; the head width d/heads is even (RoPE rotates pairs)
 * @param seqLen        tokens per training sequence
 * @param experts       routed experts N per block
 * @param groups        expert groups G (nodes); N mod G = 0
 * @param topkGroups    groups M a token may use, 1..G
 * @param topk          experts K per token
 * @param sharedExperts shared experts per block, &ge; 0 (held as one SwiGLU of width shared·expertDim)
 * @param expertDim     the intermediate width I of one expert
 * @param preset        {@code deepseek-v3} or {@code deepseek-v2}
 */
public record TransformerConfig(int layers, int dim, int heads, int seqLen, int experts, int groups, int topkGroups,
                                int topk, int sharedExperts, int expertDim, String preset) {
    /** The vocabulary: one token per byte value. */
    public static final int VOCAB = 256;

    /**
     * Validates the sizes and the routing they imply.
     *
     * @throws IllegalArgumentException naming the first size out of range
     * @throws dev.moe.routing.InvalidConfigException if the routing is invalid (e.g. N mod G ≠ 0)
     */
    public TransformerConfig {
        positive("layers", layers);
        positive("dim", dim);
        positive("heads", heads);
        positive("seq", seqLen);
        positive("experts", experts);
        positive("expert-dim", expertDim);
        if (sharedExperts < 0) {
            throw new IllegalArgumentException("--shared-experts must be >= 0, got " + sharedExperts);
        }
        if (dim % heads != 0 || (dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("--dim " + dim + " must split into --heads " + heads
                    + " heads of an even width (RoPE rotates pairs)");
        }
        if (!"deepseek-v3".equals(preset) && !"deepseek-v2".equals(preset)) {
            throw new IllegalArgumentException("--preset: expected deepseek-v3 or deepseek-v2, got '" + preset + "'");
        }
        long params = parameterCount(layers, dim, experts, sharedExperts, expertDim);
        if (params > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the model would have " + params + " parameters; at most "
                    + (Integer.MAX_VALUE - 8) + " are supported");
        }
        routingFor(experts, groups, topkGroups, topk, preset);  // throws InvalidConfigException
    }

    /** {@return the width of one attention head} */
    public int headDim() {
        return dim / heads;
    }

    /** {@return the width of the shared-expert SwiGLU (0 without shared experts)} */
    public int sharedDim() {
        return sharedExperts * expertDim;
    }

    /** {@return the gate's configuration: the preset's rules with this model's sizes and ρ = 1} */
    public RoutingConfig routing() {
        return routingFor(experts, groups, topkGroups, topk, preset);
    }

    /** {@return the number of trainable parameters} */
    public long parameterCount() {
        return parameterCount(layers, dim, experts, sharedExperts, expertDim);
    }

    /**
     * Parameters that one token's forward pass multiplies: attention, the gate, the shared expert(s),
     * K routed experts and the output head (the embedding is a lookup).
     *
     * @return the active parameter count per token
     */
    public long activeMatrixParameters() {
        long perLayer = 4L * dim * dim + (long) experts * dim + 3L * dim * sharedDim() + 3L * topk * dim * expertDim;
        return layers * perLayer + (long) VOCAB * dim;
    }

    private static long parameterCount(int layers, int dim, int experts, int shared, int expertDim) {
        long perLayer = 2L * dim + 4L * dim * dim + (long) experts * dim + 3L * experts * dim * expertDim
                + 3L * dim * shared * expertDim;
        return 2L * VOCAB * dim + dim + layers * perLayer;
    }

    private static RoutingConfig routingFor(int experts, int groups, int topkGroups, int topk, String preset) {
        RoutingConfig.Builder b = RoutingConfig.preset(preset).toBuilder()
                .experts(experts).groups(groups).topkGroups(topkGroups).topk(topk).routeScale(1f);
        if ("deepseek-v3".equals(preset)) {
            b.groupScore(GroupScore.TOP_J_SUM).groupTopJ(Math.min(2, Math.max(1, experts / Math.max(1, groups))));
        }
        return b.build();
    }

    private static void positive(String flag, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("--" + flag + " must be >= 1, got " + v);
        }
    }
}
