package dev.moe.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.moe.backend.Backend;
import dev.moe.bindings.moe_gate_config;
import dev.moe.bindings.moe_gate_stats;
import dev.moe.bindings.moe_h;
import dev.moe.nativecall.NativeGateConfig;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;

/** Routes with the native C++ kernel ({@code moe_gate_cpu}) on caller-owned segments, without copies. */
final class NativeCpuRouter extends AbstractRouter {
    /** Per-thread diagnostics struct, so concurrent calls never share it and no call allocates. */
    private static final ThreadLocal<MemorySegment> STATS =
            ThreadLocal.withInitial(() -> moe_gate_stats.allocate(Arena.ofAuto()));

    private final MemorySegment nativeConfig;

    NativeCpuRouter(RoutingConfig config) {
        super(config);
        MoeNative.cpu();
        nativeConfig = toNative(config, Arena.ofAuto());
        NativeStatus.check(moe_h.moe_gate_config_check(nativeConfig), "moe_gate_config_check(" + config + ")");
    }

    /** The C struct of a configuration, allocated in {@code arena}. */
    static MemorySegment toNative(RoutingConfig c, Arena arena) {
        return NativeGateConfig.allocate(arena, c.numExperts(), c.numGroups(), c.topkGroups(), c.topk(), c.scoreFunction().code(),
                c.groupScore().code(), c.groupTopJ(), c.normalize(), c.routeScale(), c.biasMode().code());
    }

    @Override
    public Backend backend() {
        return Backend.CPU;
    }

    @Override
    protected GateStats doRoute(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                MemorySegment outWeights, MemorySegment expertLoad) {
        requireNative(logits, "logits", 4);
        requireNative(outIds, "ids", 4);
        requireNative(outWeights, "weights", 4);
        long n = config.numExperts();
        long tk = numTokens * config.topk();
        MemorySegment b = bias == null ? MemorySegment.NULL : requireNative(bias, "bias", 4);
        MemorySegment load = expertLoad == null ? MemorySegment.NULL : requireNative(expertLoad, "expert load", 8);
        MemorySegment stats = STATS.get();
        int status = moe_h.moe_gate_cpu(nativeConfig, logits, numTokens * n, b, bias == null ? 0 : n, numTokens,
                outIds, tk, outWeights, tk, load, expertLoad == null ? 0 : n, stats);
        if (status == moe_h.MOE_STATUS_NON_FINITE_INPUT() && moe_gate_stats.first_bad_row(stats) >= 0) {
            throw NonFiniteInputException.inRow(logits, moe_gate_stats.first_bad_row(stats), (int) n);
        }
        NativeStatus.check(status, "moe_gate_cpu");
        return new GateStats(numTokens, moe_gate_stats.zero_sum_rows(stats));
    }

    /** Native kernels cannot read the Java heap: arrays go through a confined arena, both ways. */
    @Override
    protected GateStats routeArrays(float[] logits, float[] bias, int numTokens, int[] ids, float[] weights, long[] load) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment z = arena.allocateFrom(ValueLayout.JAVA_FLOAT, logits);
            MemorySegment b = bias == null ? null : arena.allocateFrom(ValueLayout.JAVA_FLOAT, bias);
            MemorySegment idSeg = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, ids.length)).asSlice(0, 4L * ids.length);
            MemorySegment wSeg = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, weights.length)).asSlice(0, 4L * weights.length);
            MemorySegment loadSeg = arena.allocate(ValueLayout.JAVA_LONG, load.length);
            GateStats stats = route(z, numTokens, b, idSeg, wSeg, loadSeg);
            MemorySegment.copy(idSeg, ValueLayout.JAVA_INT, 0, ids, 0, ids.length);
            MemorySegment.copy(wSeg, ValueLayout.JAVA_FLOAT, 0, weights, 0, weights.length);
            MemorySegment.copy(loadSeg, ValueLayout.JAVA_LONG, 0, load, 0, load.length);
            return stats;
        }
    }

    private static MemorySegment requireNative(MemorySegment s, String what, int alignment) {
        if (!s.isNative()) {
            throw new IllegalArgumentException(what + ": the " + Backend.CPU.cliName()
                    + " backend needs a native (off-heap) segment, e.g. from Arena.allocate; use the array API for heap data");
        }
        if (s.address() % alignment != 0) {
            throw new IllegalArgumentException(what + ": segment address is not " + alignment + "-byte aligned");
        }
        return s;
    }
}
