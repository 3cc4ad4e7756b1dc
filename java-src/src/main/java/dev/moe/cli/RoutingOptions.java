package dev.moe.cli;

import java.util.ArrayList;
import java.util.List;

import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.ScoreFunction;
import picocli.CommandLine.Option;

/** The routing configuration flags shared by route, demo and bench: a preset plus overrides. */
final class RoutingOptions {
    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "deepseek-v3",
            description = "deepseek-v3 (N 256, G 8, M 4, K 8, sigmoid, top2sum, normalize, x2.5) or "
                    + "deepseek-v2 (N 160, G 8, M 3, K 6, softmax, max, no normalize, x16). Default: ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--experts", paramLabel = "N", description = "Routed experts (overrides the preset).")
    Integer experts;

    @Option(names = "--groups", paramLabel = "G", description = "Expert groups (nodes/devices).")
    Integer groups;

    @Option(names = "--topk-groups", paramLabel = "M", description = "Groups kept per token (M = G: no limit).")
    Integer topkGroups;

    @Option(names = "--topk", paramLabel = "K", description = "Experts chosen per token.")
    Integer topk;

    @Option(names = "--score", paramLabel = "sigmoid|softmax", description = "Score function.")
    String score;

    @Option(names = "--group-score", paramLabel = "top2sum|max",
            description = "Group score: sum of the top-2 biased scores in the group, or the group max.")
    String groupScore;

    @Option(names = "--scale", paramLabel = "RHO", description = "Route scale applied to the weights.")
    Float scale;

    @Option(names = "--normalize", paramLabel = "true|false", arity = "1",
            description = "Renormalise the K chosen weights to 1 before scaling.")
    String normalize;

    /** The preset with the explicit flags applied; invalid combinations throw with the rule broken. */
    RoutingConfig toConfig() {
        return toConfig(RoutingConfig.preset(preset));
    }

    /** {@code base} with the explicit flags (not --preset) applied; invalid combinations throw with the rule broken. */
    RoutingConfig toConfig(RoutingConfig base) {
        RoutingConfig.Builder b = base.toBuilder();
        if (experts != null) {
            b.experts(experts);
        }
        if (groups != null) {
            b.groups(groups);
        }
        if (topkGroups != null) {
            b.topkGroups(topkGroups);
        }
        if (topk != null) {
            b.topk(topk);
        }
        if (score != null) {
            b.scoreFunction(ScoreFunction.parse(score));
        }
        if (groupScore != null) {
            switch (groupScore) {
                case "top2sum" -> b.groupScore(GroupScore.TOP_J_SUM).groupTopJ(2);
                case "max" -> b.groupScore(GroupScore.MAX);
                default -> throw new UsageException("--group-score: expected top2sum or max, got '" + groupScore + "'");
            }
        }
        if (scale != null) {
            b.routeScale(scale);
        }
        if (normalize != null) {
            b.normalize(switch (normalize) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new UsageException("--normalize: expected true or false, got '" + normalize + "'");
            });
        }
        return b.build();
    }

    /** {@return whether a flag other than --preset overrides the preset} */
    boolean overridesGiven() {
        return experts != null || groups != null || topkGroups != null || topk != null || score != null || groupScore != null
                || scale != null || normalize != null;
    }

    /** {@return the flags, as given, that select this configuration: --preset and each override} */
    List<String> explicitFlags() {
        List<String> f = new ArrayList<>(List.of("--preset", preset));
        add(f, "--experts", experts);
        add(f, "--groups", groups);
        add(f, "--topk-groups", topkGroups);
        add(f, "--topk", topk);
        add(f, "--score", score);
        add(f, "--group-score", groupScore);
        add(f, "--scale", scale);
        add(f, "--normalize", normalize);
        return f;
    }

    private static void add(List<String> flags, String name, Object value) {
        if (value != null) {
            flags.add(name);
            flags.add(value.toString());
        }
    }
}
