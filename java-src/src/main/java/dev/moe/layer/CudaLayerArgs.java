package dev.moe.layer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.Map;

import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_layer_args;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.nativecall.NativeGateConfig;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeNative;
import dev.moe.routing.RoutingConfig;

/**
 * The buffers of one {@code moe_layer_forward_cuda} call and the {@code moe_layer_args} struct that names
 * them, the same for device pointers ({@link CudaMoeLayer}) and host memory (the tests' host twin).
 * Internal.
 */
final class CudaLayerArgs {
    private CudaLayerArgs() {}

    /** One pointer field of moe_layer_args. Weight slots are filled once per layer, the others per call. */
    enum Slot {
        X, GATE, BIAS, W13, W13_SCALES, W2, W2_SCALES, SHARED_W13, SHARED_W13_SCALES, SHARED_W2, SHARED_W2_SCALES,
        OUT, IDS, WEIGHTS, LOAD, DIAGNOSTICS, WORKSPACE;

        boolean isWeight() {
            return ordinal() >= GATE.ordinal() && ordinal() <= SHARED_W2_SCALES.ordinal();
        }
    }

    /** Diagnostics entries the call writes (moe.h). */
    static final int DIAGNOSTICS = 4;

    /** The weight slots' contents as host segments (absent slots: no shared expert or no bias). */
    static Map<Slot, MemorySegment> weights(MoeLayerWeights w, Arena arena) {
        Map<Slot, MemorySegment> m = new EnumMap<>(Slot.class);
        m.put(Slot.GATE, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.gate()));
        if (w.gateBias() != null) {
            m.put(Slot.BIAS, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.gateBias()));
        }
        m.put(Slot.W13, arena.allocateFrom(ValueLayout.JAVA_BYTE, w.w13().codes()));
        m.put(Slot.W13_SCALES, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.w13().scales()));
        m.put(Slot.W2, arena.allocateFrom(ValueLayout.JAVA_BYTE, w.w2().codes()));
        m.put(Slot.W2_SCALES, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.w2().scales()));
        if (w.hasSharedExpert()) {
            m.put(Slot.SHARED_W13, arena.allocateFrom(ValueLayout.JAVA_BYTE, w.sharedW13().codes()));
            m.put(Slot.SHARED_W13_SCALES, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.sharedW13().scales()));
            m.put(Slot.SHARED_W2, arena.allocateFrom(ValueLayout.JAVA_BYTE, w.sharedW2().codes()));
            m.put(Slot.SHARED_W2_SCALES, arena.allocateFrom(ValueLayout.JAVA_FLOAT, w.sharedW2().scales()));
        }
        return m;
    }

    /** Bytes of each per-call slot for {@code tokens} tokens. */
    static Map<Slot, Long> callBytes(MoeLayerWeights w, int tokens) {
        long t = tokens;
        long h = w.hidden();
        long k = w.config().topk();
        Map<Slot, Long> m = new EnumMap<>(Slot.class);
        m.put(Slot.X, 4 * t * h);
        m.put(Slot.OUT, 4 * t * h);
        m.put(Slot.IDS, 4 * t * k);
        m.put(Slot.WEIGHTS, 4 * t * k);
        m.put(Slot.LOAD, 8L * w.config().numExperts());
        m.put(Slot.DIAGNOSTICS, 8L * DIAGNOSTICS);
        m.put(Slot.WORKSPACE, workspaceBytes(w, tokens));
        return m;
    }

    /** Scratch bytes the call needs ({@code moe_layer_workspace_bytes}). */
    static long workspaceBytes(MoeLayerWeights w, int tokens) {
        MoeNative.cpu();  // moe_layer_workspace_bytes lives in the CPU library
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = struct(arena, w, tokens, CudaGemmKernel.EXACT, Map.of(), 0);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
            NativeStatus.check(moe_h.moe_layer_workspace_bytes(args, out), "moe_layer_workspace_bytes");
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Refuses the GEMM kernel the layer does not run (WGMMA: the layer runs its TMA-fed form). */
    static CudaGemmKernel requireLayerKernel(CudaGemmKernel kernel) {
        if (kernel == CudaGemmKernel.WGMMA) {
            throw new IllegalArgumentException("the GPU-resident layer runs the EXACT, MMA or WGMMA_TMA GEMMs, not WGMMA");
        }
        return kernel;
    }

    /**
     * A moe_layer_args for {@code tokens} tokens with the given pointers (absent slots are NULL), its GEMMs
     * on {@code kernel} (EXACT, MMA or WGMMA_TMA).
     */
    static MemorySegment struct(Arena arena, MoeLayerWeights w, int tokens, CudaGemmKernel kernel, Map<Slot, MemorySegment> ptr,
                                long workspaceBytes) {
        MemorySegment a = moe_layer_args.allocate(arena);
        RoutingConfig c = w.config();
        NativeGateConfig.write(moe_layer_args.gate(a), c.numExperts(), c.numGroups(), c.topkGroups(), c.topk(), c.scoreFunction().code(),
                c.groupScore().code(), c.groupTopJ(), c.normalize(), c.routeScale(), c.biasMode().code());
        moe_layer_args.tokens(a, tokens);
        moe_layer_args.hidden(a, w.hidden());
        moe_layer_args.intermediate(a, w.intermediate());
        moe_layer_args.shared_intermediate(a, w.hasSharedExpert() ? w.sharedW2().cols() : 0);
        moe_layer_args.gemm_kernel(a, requireLayerKernel(kernel).nativeCode());
        MemorySegment nul = MemorySegment.NULL;
        moe_layer_args.x(a, ptr.getOrDefault(Slot.X, nul));
        moe_layer_args.gate_weight(a, ptr.getOrDefault(Slot.GATE, nul));
        moe_layer_args.gate_bias(a, ptr.getOrDefault(Slot.BIAS, nul));
        moe_layer_args.w13(a, ptr.getOrDefault(Slot.W13, nul));
        moe_layer_args.w13_scales(a, ptr.getOrDefault(Slot.W13_SCALES, nul));
        moe_layer_args.w2(a, ptr.getOrDefault(Slot.W2, nul));
        moe_layer_args.w2_scales(a, ptr.getOrDefault(Slot.W2_SCALES, nul));
        moe_layer_args.shared_w13(a, ptr.getOrDefault(Slot.SHARED_W13, nul));
        moe_layer_args.shared_w13_scales(a, ptr.getOrDefault(Slot.SHARED_W13_SCALES, nul));
        moe_layer_args.shared_w2(a, ptr.getOrDefault(Slot.SHARED_W2, nul));
        moe_layer_args.shared_w2_scales(a, ptr.getOrDefault(Slot.SHARED_W2_SCALES, nul));
        moe_layer_args.out(a, ptr.getOrDefault(Slot.OUT, nul));
        moe_layer_args.ids(a, ptr.getOrDefault(Slot.IDS, nul));
        moe_layer_args.weights(a, ptr.getOrDefault(Slot.WEIGHTS, nul));
        moe_layer_args.expert_load(a, ptr.getOrDefault(Slot.LOAD, nul));
        moe_layer_args.diagnostics(a, ptr.getOrDefault(Slot.DIAGNOSTICS, nul));
        moe_layer_args.workspace(a, ptr.getOrDefault(Slot.WORKSPACE, nul));
        moe_layer_args.workspace_bytes(a, workspaceBytes);
        return a;
    }

    /**
     * Throws when the diagnostics report non-finite data: a token whose router logits overflowed, or an
     * expert activation that did.
     */
    static void checkDiagnostics(MemorySegment diagnostics) {
        long badRow = diagnostics.getAtIndex(ValueLayout.JAVA_LONG, 0);
        if (badRow != Long.MAX_VALUE) {
            throw new ArithmeticException("router logits of token " + badRow + " are not finite (x · gate overflowed FP32)");
        }
        if (diagnostics.getAtIndex(ValueLayout.JAVA_LONG, 2) != 0) {
            throw new ArithmeticException("an expert activation is not finite (the w13 GEMM or SwiGLU overflowed FP32)");
        }
    }
}
