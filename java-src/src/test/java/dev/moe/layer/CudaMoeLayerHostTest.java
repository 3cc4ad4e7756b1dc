package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.moe.backend.Backend;
import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_layer_args;
import dev.moe.bindings.moe_testkit_h;
import dev.moe.fp8.CudaGemmKernel;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.ScoreFunction;

/**
 * The GPU-resident MoE layer without a GPU: moe_layer_forward_cuda's kernels (shared/moe_layer.cuh, the
 * gate and FP8 GEMM block code) run on the host by the testkit's twin give the java backend's
 * MoeLayer output, ids, weights and load counts bit for bit, on partial tiles, several permutation
 * chunks, with and without bias and shared expert; bad shapes and overflow are reported.
 */
class CudaMoeLayerHostTest {
    static final RoutingConfig V3_LIKE = RoutingConfig.builder().experts(16).groups(4).topkGroups(2).topk(4).build();
    static final RoutingConfig SOFTMAX_FLAT = RoutingConfig.builder().experts(12).groups(1).topkGroups(1).topk(3)
            .scoreFunction(ScoreFunction.SOFTMAX).normalize(false).build();

    static float[] input(int tokens, int h, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[tokens * h];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    static MoeLayerWeights withoutBias(MoeLayerWeights w) {
        return new MoeLayerWeights(w.config(), w.hidden(), w.intermediate(), w.gate(), null, w.w13(), w.w2(), w.sharedW13(),
                w.sharedW2());
    }

    static void assertSameAsJava(MoeLayerWeights w, int tokens, long seed) {
        assertSameAsJava(w, tokens, seed, CudaGemmKernel.EXACT);
    }

    static void assertSameAsJava(MoeLayerWeights w, int tokens, long seed, CudaGemmKernel kernel) {
        float[] x = input(tokens, w.hidden(), seed);
        MoeLayer.Output want = MoeLayer.create(w, Backend.JAVA).forwardWithRouting(x, tokens);
        MoeLayer.Output got = CudaLayerHostTwin.forward(w, x, tokens, kernel);
        assertArrayEquals(want.routing().ids(), got.routing().ids(), "ids");
        assertArrayEquals(want.routing().weights(), got.routing().weights(), "weights");
        assertArrayEquals(want.routing().expertLoad(), got.routing().expertLoad(), "load");
        assertArrayEquals(want.hidden(), got.hidden(), "output");
    }

    @ParameterizedTest(name = "V3-like T={0} H={1} shared={2}")
    @CsvSource({"1, 200, true", "37, 200, true", "64, 128, false", "600, 200, true", "130, 300, false"})
    void v3LikeEqualsTheJavaLayerBitForBit(int tokens, int hidden, boolean shared) {
        MoeLayerWeights w = MoeLayerWeights.synthetic(V3_LIKE, hidden, 128, shared, 11 + tokens);
        assertSameAsJava(w, tokens, tokens * 3L + hidden);
    }

    /**
     * The tensor-core GEMMs inside the pipeline, emulated in increasing k: still the java layer's bits.
     * MMA: the mma.sync tiles; WGMMA_TMA: the persistent pipeline over the routed rows, its 128-row tiles
     * found from the prefix the plan writes on the device (empty experts, a partial last tile, tiles of the
     * worst-case grid past the last).
     */
    @ParameterizedTest(name = "{3} T={0} H={1} shared={2}")
    @CsvSource({"37, 200, true, MMA", "300, 136, false, MMA", "37, 208, true, WGMMA_TMA", "300, 144, false, WGMMA_TMA",
        "1, 64, true, WGMMA_TMA"})
    void tensorCoreGemmsInThePipeline(int tokens, int hidden, boolean shared, CudaGemmKernel kernel) {
        MoeLayerWeights w = MoeLayerWeights.synthetic(V3_LIKE, hidden, 128, shared, 21 + tokens);
        assertSameAsJava(w, tokens, tokens + 5L, kernel);
    }

    @Test
    void softmaxWithoutGroupsOrBiasAndAWiderExpert() {
        MoeLayerWeights w = withoutBias(MoeLayerWeights.synthetic(SOFTMAX_FLAT, 136, 256, true, 5));
        assertSameAsJava(w, 77, 9);
    }

    @Test
    void manyChunksOfThePermutationPlan() {
        // 700 x 4 = 2800 assignments: two plan chunks of 2048, the second partial.
        MoeLayerWeights w = MoeLayerWeights.synthetic(V3_LIKE, 64, 128, false, 3);
        assertSameAsJava(w, 700, 4);
    }

    @Test
    void emptyBatch() {
        MoeLayerWeights w = MoeLayerWeights.synthetic(V3_LIKE, 64, 128, true, 3);
        MoeLayer.Output got = CudaLayerHostTwin.forward(w, new float[0], 0, CudaGemmKernel.EXACT);
        assertEquals(0, got.hidden().length);
        assertEquals(0, Arrays.stream(got.routing().expertLoad()).sum());
    }

    @Test
    void overflowingLogitsNameTheToken() {
        MoeLayerWeights s = MoeLayerWeights.synthetic(V3_LIKE, 64, 128, false, 3);
        float[] gate = new float[s.gate().length];
        Arrays.fill(gate, 2.0f);
        MoeLayerWeights w = new MoeLayerWeights(s.config(), 64, 128, gate, s.gateBias(), s.w13(), s.w2(), null, null);
        float[] x = input(5, 64, 1);
        Arrays.fill(x, 3 * 64, 4 * 64, 3e38f);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> CudaLayerHostTwin.forward(w, x, 5, CudaGemmKernel.EXACT));
        assertTrue(e.getMessage().contains("token 3"), e.getMessage());
    }

    @Test
    void workspaceGrowsWithTheBatchAndBadShapesAreRefused() {
        MoeLayerWeights w = MoeLayerWeights.synthetic(V3_LIKE, 200, 128, true, 3);
        dev.moe.nativelib.MoeTestkit.load();
        long small = CudaLayerArgs.workspaceBytes(w, 10);
        long big = CudaLayerArgs.workspaceBytes(w, 1000);
        assertTrue(small > 0 && big > 50 * small, small + " / " + big);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = CudaLayerArgs.struct(arena, w, 4, CudaGemmKernel.EXACT, Map.of(), 0);
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            moe_layer_args.intermediate(args, 100);  // not a multiple of 128
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_layer_workspace_bytes(args, bytes));
            moe_layer_args.intermediate(args, 128);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_layer_workspace_bytes(args, bytes));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_testkit_h.moe_testkit_layer_forward_cuda_host(args), "no buffers given");
            moe_layer_args.gemm_kernel(args, 7);
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_layer_workspace_bytes(args, bytes), "a MOE_GEMM_KERNEL_*");
            moe_layer_args.gemm_kernel(args, moe_h.MOE_GEMM_KERNEL_CPU());
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_layer_workspace_bytes(args, bytes), "a CUDA kernel");
            moe_layer_args.gemm_kernel(args, moe_h.MOE_GEMM_KERNEL_WGMMA());
            assertEquals(moe_h.MOE_STATUS_NOT_IMPLEMENTED(), moe_h.moe_layer_workspace_bytes(args, bytes), "the TMA-fed form only");
            moe_layer_args.gemm_kernel(args, moe_h.MOE_GEMM_KERNEL_WGMMA_TMA());
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_layer_workspace_bytes(args, bytes), "wgmma with TMA: H % 16");
            moe_layer_args.hidden(args, 208);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_layer_workspace_bytes(args, bytes));
            moe_layer_args.reserved(args, 1);
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_layer_workspace_bytes(args, bytes), "reserved is 0");
            moe_layer_args.reserved(args, 0);
            moe_layer_args.hidden(args, 200);
            moe_layer_args.gemm_kernel(args, moe_h.MOE_GEMM_KERNEL_EXACT());
            moe_layer_args.tokens(args, -1);
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_testkit_h.moe_testkit_layer_forward_cuda_host(args));
        }
    }
}
