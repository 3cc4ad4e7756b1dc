package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;
import dev.moe.cuda.CudaDevice;

/**
 * The GPU-resident MoE layer on a GPU: bit-identical to the java backend's MoeLayer through the CUDA
 * graph path and the direct path, across batch sizes that grow and shrink the buffers, with replays of
 * captured graphs; overflow is reported; a closed layer refuses work.
 */
@Tag("gpu")
class CudaMoeLayerTest {
    @BeforeAll
    static void requireGpu() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeTrue(cuda.detail().contains("GPU(s) found"), "no usable GPU here: " + cuda.detail());
    }

    static void assertSame(MoeLayer.Output want, MoeLayer.Output got) {
        assertArrayEquals(want.routing().ids(), got.routing().ids(), "ids");
        assertArrayEquals(want.routing().weights(), got.routing().weights(), "weights");
        assertArrayEquals(want.routing().expertLoad(), got.routing().expertLoad(), "load");
        assertArrayEquals(want.hidden(), got.hidden(), "output");
    }

    @Test
    void graphAndDirectPathsEqualTheJavaLayerBitForBit() {
        MoeLayerWeights w = MoeLayerWeights.synthetic(CudaMoeLayerHostTest.V3_LIKE, 200, 128, true, 7);
        MoeLayer java = MoeLayer.create(w, Backend.JAVA);
        try (CudaMoeLayer gpu = CudaMoeLayer.create(w, 0, 64)) {
            for (int tokens : new int[] {1, 37, 37, 64, 600, 5, 2100, 37}) {  // graph, replay, direct, growth, shrink
                float[] x = CudaMoeLayerHostTest.input(tokens, w.hidden(), tokens);
                assertSame(java.forwardWithRouting(x, tokens), gpu.forward(x, tokens));
            }
        }
    }

    /** Tensor-core GEMMs: the same routing (the gate is exact), outputs within 1 % of the largest |y|. */
    /** Each tensor-core kernel the device runs, in the graph (16 tokens) and direct (500) paths. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(names = {"MMA", "WGMMA_TMA"})
    void tensorCoreLayerIsCloseToTheJavaLayer(dev.moe.fp8.CudaGemmKernel kernel) {
        CudaDevice d = CudaDevice.query(0);
        org.junit.jupiter.api.Assumptions.assumeTrue(kernel.runsOn(d.capability(), true),
                kernel + " does not run on compute capability " + d.capabilityText());
        assertTrue(kernel.runsOn(d), "the library lacks the sm_90a image " + kernel + " needs on " + d.name());
        MoeLayerWeights w = MoeLayerWeights.synthetic(CudaMoeLayerHostTest.V3_LIKE, 256, 256, true, 9);
        try (CudaMoeLayer gpu = CudaMoeLayer.create(w, 0, 64, kernel)) {
            for (int tokens : new int[] {16, 500}) {
                float[] x = CudaMoeLayerHostTest.input(tokens, w.hidden(), tokens);
                MoeLayer.Output want = MoeLayer.create(w, Backend.JAVA).forwardWithRouting(x, tokens);
                MoeLayer.Output got = gpu.forward(x, tokens);
                assertArrayEquals(want.routing().ids(), got.routing().ids(), "ids");
                float max = 0;
                for (float v : want.hidden()) {
                    max = Math.max(max, Math.abs(v));
                }
                for (int i = 0; i < want.hidden().length; i++) {
                    if (!(Math.abs(want.hidden()[i] - got.hidden()[i]) <= 0.01f * max)) {
                        throw new AssertionError("T=" + tokens + " element " + i + ": " + got.hidden()[i] + " vs " + want.hidden()[i]
                                + " (max |y| " + max + ")");
                    }
                }
            }
        }
    }

    @Test
    void softmaxWithoutBias() {
        MoeLayerWeights w = CudaMoeLayerHostTest.withoutBias(
                MoeLayerWeights.synthetic(CudaMoeLayerHostTest.SOFTMAX_FLAT, 136, 256, true, 5));
        try (CudaMoeLayer gpu = CudaMoeLayer.create(w)) {
            float[] x = CudaMoeLayerHostTest.input(300, w.hidden(), 9);
            assertSame(MoeLayer.create(w, Backend.JAVA).forwardWithRouting(x, 300), gpu.forward(x, 300));
        }
    }

    @Test
    void overflowIsReportedAndAClosedLayerRefusesWork() {
        MoeLayerWeights s = MoeLayerWeights.synthetic(CudaMoeLayerHostTest.V3_LIKE, 64, 128, false, 3);
        float[] gate = new float[s.gate().length];
        Arrays.fill(gate, 2.0f);
        MoeLayerWeights w = new MoeLayerWeights(s.config(), 64, 128, gate, s.gateBias(), s.w13(), s.w2(), null, null);
        float[] x = CudaMoeLayerHostTest.input(5, 64, 1);
        Arrays.fill(x, 3 * 64, 4 * 64, 3e38f);
        CudaMoeLayer gpu = CudaMoeLayer.create(w);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> gpu.forward(x, 5));
        assertEquals(true, e.getMessage().contains("token 3"), e.getMessage());
        float[] ok = CudaMoeLayerHostTest.input(5, 64, 2);
        assertSame(MoeLayer.create(w, Backend.JAVA).forwardWithRouting(ok, 5), gpu.forward(ok, 5));  // usable after
        gpu.close();
        gpu.close();  // idempotent
        assertThrows(IllegalStateException.class, () -> gpu.forward(ok, 5));
    }
}
