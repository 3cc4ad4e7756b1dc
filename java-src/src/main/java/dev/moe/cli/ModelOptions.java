package dev.moe.cli;

import dev.moe.train.TransformerConfig;
import picocli.CommandLine.Option;

/** The model-shape flags shared by train and bench train. */
final class ModelOptions {
    @Option(names = "--preset", defaultValue = "deepseek-v3",
            description = "Gate rules: deepseek-v3 (sigmoid, top-2-sum groups, renormalised) or deepseek-v2 "
                    + "(softmax, group max, not renormalised). Default ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--layers", defaultValue = "2", description = "Transformer blocks (default ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--dim", defaultValue = "128", description = "Model width (default ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--seq", defaultValue = "128", description = "Sequence length (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--experts", defaultValue = "16", description = "Routed experts per block (default ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--groups", defaultValue = "4", description = "Expert groups (nodes) (default ${DEFAULT-VALUE}).")
    int groups;

    @Option(names = "--topk-groups", defaultValue = "2", description = "Groups a token may use (default ${DEFAULT-VALUE}).")
    int topkGroups;

    @Option(names = "--topk", defaultValue = "2", description = "Experts per token (default ${DEFAULT-VALUE}).")
    int topk;

    @Option(names = "--shared-experts", defaultValue = "1", description = "Shared experts per block (default ${DEFAULT-VALUE}).")
    int sharedExperts;

    @Option(names = "--expert-dim", defaultValue = "128", description = "Intermediate width of one expert (default ${DEFAULT-VALUE}).")
    int expertDim;

    /** The shape these flags give; invalid combinations throw with the rule broken. */
    TransformerConfig toConfig() {
        return new TransformerConfig(layers, dim, heads, seq, experts, groups, topkGroups, topk, sharedExperts, expertDim,
                preset);
    }
}
