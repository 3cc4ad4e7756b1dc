package dev.moe.nativecall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_gate_config;

/**
 * The C ABI's {@code moe_gate_config} struct, written field by field for code that calls the native
 * kernels directly (the native routers, the GPU MoE layer). Its arguments are the struct's fields, so that
 * this writer depends on nothing above the bindings.
 */
public final class NativeGateConfig {
    private NativeGateConfig() {}

    /**
     * A new struct in {@code arena} (see {@link #write} for the fields).
     *
     * @return the struct
     */
    public static MemorySegment allocate(Arena arena, int numExperts, int numGroups, int topkGroups, int topk, int scoreFunction,
                                         int groupScore, int groupTopJ, boolean normalize, float routeScale, int biasMode) {
        MemorySegment s = moe_gate_config.allocate(arena);
        write(s, numExperts, numGroups, topkGroups, topk, scoreFunction, groupScore, groupTopJ, normalize, routeScale, biasMode);
        return s;
    }

    /**
     * Writes the struct {@code s} (one of its own, or a field of a larger struct).
     *
     * @param s             the struct
     * @param numExperts    N
     * @param numGroups     G
     * @param topkGroups    M
     * @param topk          K
     * @param scoreFunction MOE_SCORE_*
     * @param groupScore    MOE_GROUP_SCORE_*
     * @param groupTopJ     J
     * @param normalize     whether the K weights are renormalised
     * @param routeScale    the weights' scale
     * @param biasMode      MOE_BIAS_*
     */
    public static void write(MemorySegment s, int numExperts, int numGroups, int topkGroups, int topk, int scoreFunction,
                             int groupScore, int groupTopJ, boolean normalize, float routeScale, int biasMode) {
        moe_gate_config.num_experts(s, numExperts);
        moe_gate_config.num_groups(s, numGroups);
        moe_gate_config.topk_groups(s, topkGroups);
        moe_gate_config.topk(s, topk);
        moe_gate_config.score_func(s, scoreFunction);
        moe_gate_config.group_score(s, groupScore);
        moe_gate_config.group_topj(s, groupTopJ);
        moe_gate_config.normalize(s, normalize ? 1 : 0);
        moe_gate_config.route_scale(s, routeScale);
        moe_gate_config.bias_mode(s, biasMode);
    }
}
