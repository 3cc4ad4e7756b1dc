package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_gate_config;
import dev.moe.bindings.moe_h;

/**
 * A {@link RoutingConfig} as the C ABI's {@code moe_gate_config} struct, for code that calls the native
 * kernels directly (the native routers, the GPU MoE layer).
 */
public final class NativeGateConfig {
    private NativeGateConfig() {}

    /** A new struct in {@code arena} holding {@code c}. */
    public static MemorySegment allocate(RoutingConfig c, Arena arena) {
        MemorySegment s = moe_gate_config.allocate(arena);
        write(c, s);
        return s;
    }

    /** Writes {@code c} into the struct {@code s} (e.g. a field of a larger struct). */
    public static void write(RoutingConfig c, MemorySegment s) {
        moe_gate_config.num_experts(s, c.numExperts());
        moe_gate_config.num_groups(s, c.numGroups());
        moe_gate_config.topk_groups(s, c.topkGroups());
        moe_gate_config.topk(s, c.topk());
        moe_gate_config.score_func(s, c.scoreFunction().code());
        moe_gate_config.group_score(s, c.groupScore().code());
        moe_gate_config.group_topj(s, c.groupTopJ());
        moe_gate_config.normalize(s, c.normalize() ? 1 : 0);
        moe_gate_config.route_scale(s, c.routeScale());
        moe_gate_config.bias_mode(s, c.biasMode() == BiasMode.ADD ? moe_h.MOE_BIAS_ADD() : moe_h.MOE_BIAS_MULTIPLY());
    }
}
