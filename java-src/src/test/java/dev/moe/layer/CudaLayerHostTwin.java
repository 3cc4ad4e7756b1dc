package dev.moe.layer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_testkit_h;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.layer.CudaLayerArgs.Slot;
import dev.moe.nativecall.NativeStatus;
import dev.moe.nativelib.MoeTestkit;
import dev.moe.routing.GateStats;
import dev.moe.routing.RoutingResult;

/**
 * The GPU layer's code run on the host by the testkit ({@code moe_testkit_layer_forward_cuda_host}): the
 * same kernels' per-thread code, block by block, on the same {@code moe_layer_args} as {@link CudaMoeLayer}
 * builds (tensor-core MMAs emulated, summing in increasing k; the wgmma pipeline's roles as turn-taking
 * threads). Slow; for tests on machines without a GPU.
 */
final class CudaLayerHostTwin {
    private CudaLayerHostTwin() {}

    static MoeLayer.Output forward(MoeLayerWeights w, float[] x, int tokens, CudaGemmKernel kernel) {
        MoeLayer.checkInput(x, tokens, w.hidden());
        MoeTestkit.load();
        int k = w.config().topk();
        int n = w.config().numExperts();
        try (Arena host = Arena.ofConfined()) {
            Map<Slot, MemorySegment> ptr = CudaLayerArgs.weights(w, host);
            Map<Slot, Long> bytes = CudaLayerArgs.callBytes(w, tokens);
            for (Map.Entry<Slot, Long> e : bytes.entrySet()) {
                ptr.put(e.getKey(), host.allocate(Math.max(1, e.getValue()), 256));
            }
            MemorySegment.copy(x, 0, ptr.get(Slot.X), ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment args = CudaLayerArgs.struct(host, w, tokens, kernel, ptr, bytes.get(Slot.WORKSPACE));
            int status = moe_testkit_h.moe_testkit_layer_forward_cuda_host(args);
            MemorySegment diag = ptr.get(Slot.DIAGNOSTICS);
            if (status == moe_h.MOE_STATUS_NON_FINITE_INPUT() && tokens > 0) {
                CudaLayerArgs.checkDiagnostics(diag);
            }
            NativeStatus.check(status, "moe_testkit_layer_forward_cuda_host");
            long t = tokens;
            RoutingResult routing = new RoutingResult(tokens, k,
                    ptr.get(Slot.IDS).asSlice(0, 4 * t * k).toArray(ValueLayout.JAVA_INT),
                    ptr.get(Slot.WEIGHTS).asSlice(0, 4 * t * k).toArray(ValueLayout.JAVA_FLOAT),
                    ptr.get(Slot.LOAD).asSlice(0, 8L * n).toArray(ValueLayout.JAVA_LONG),
                    new GateStats(tokens, tokens > 0 ? diag.getAtIndex(ValueLayout.JAVA_LONG, 1) : 0));
            return new MoeLayer.Output(ptr.get(Slot.OUT).asSlice(0, 4 * t * w.hidden()).toArray(ValueLayout.JAVA_FLOAT), routing);
        }
    }
}
