package dev.moe.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.moe.cuda.CudaVersions;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;

/**
 * CUDA backend selection. Without a usable GPU (no driver: CUDA error 35; no device: 100) the
 * backend reports why and is never chosen or substituted; the gpu-tagged test needs a real GPU and
 * is skipped (with the reason) elsewhere.
 */
class CudaBackendTest {

    @Test
    void withoutAGpuCudaIsUnusableWithAReasonAndNeverReplacedSilently() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeFalse(cuda.usable(), "a GPU is usable here: " + cuda.detail());
        assertFalse(cuda.detail().isBlank());
        var e = assertThrows(BackendUnavailableException.class, () -> Routers.create(RoutingConfig.deepseekV3(), Backend.CUDA));
        assertTrue(e.getMessage().startsWith("backend cuda is not available: "), e.getMessage());
    }

    @Test
    void theDriverAndRuntimeVersionsAreReportedWithOrWithoutAGpu() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeFalse(cuda.detail().startsWith("CUDA library not loadable"), "built without nvcc: " + cuda.detail());
        CudaVersions v = CudaVersions.query();
        assertTrue(v.runtime() >= 12000, "the linked runtime's version: " + v);
        assertTrue(v.driver() >= 0, v.toString());
        assertTrue(cuda.detail().contains("runtime " + CudaVersions.text(v.runtime())), cuda.detail());
        assertTrue(cuda.detail().contains(v.driver() == 0 ? "no CUDA driver" : "driver " + CudaVersions.text(v.driver())),
                cuda.detail());
    }

    @Test
    void aDriverOlderThanTheRuntimeIsNamedWithTheFix() {
        assertEquals("12.4", CudaVersions.text(12040));
        assertEquals("13.0", CudaVersions.text(13000));
        CudaVersions old = new CudaVersions(12040, 13000);
        assertTrue(old.driverTooOld());
        assertTrue(old.describe().startsWith("driver 12.4, runtime 13.0") && old.describe().contains("update the driver"),
                old.describe());
        assertEquals("no CUDA driver, runtime 13.0", new CudaVersions(0, 13000).describe());
        assertEquals("driver 13.1, runtime 13.0", new CudaVersions(13010, 13000).describe());
        assertFalse(new CudaVersions(13010, 13000).driverTooOld());
    }

    @Test
    void autoPicksTheGpuWhenUsableElseTheCpu() {
        Backend want = Backends.status(Backend.CUDA).usable() ? Backend.CUDA : Backend.CPU;
        assertEquals(want, Routers.create(RoutingConfig.deepseekV3(), Backend.AUTO).backend());
    }

    @Test
    @Tag("gpu")
    void gpuIsDetectedWhereOneExists() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeTrue(cuda.detail().contains("GPU(s) found"), "no usable GPU here: " + cuda.detail());
        assertTrue(cuda.detail().matches("\\d+ GPU\\(s\\) found .*compute capability \\d+\\.\\d+; driver \\d+\\.\\d+, "
                + "runtime \\d+\\.\\d+; FP8 GEMMs: exact.*"), cuda.detail());
    }

    @Test
    void theGemmKernelsFollowTheComputeCapability() {
        assertEquals("exact CUDA cores", Backends.gemmKernels(75, true));
        assertEquals("exact CUDA cores, mma.sync BF16 (exact decode)", Backends.gemmKernels(86, true));
        assertEquals("exact CUDA cores, mma.sync FP8", Backends.gemmKernels(89, true));
        assertEquals("exact CUDA cores, mma.sync FP8, wgmma, wgmma with TMA (the tensor-core default)", Backends.gemmKernels(90, true));
        assertFalse(Backends.gemmKernels(100, true).contains("wgmma"), "sm_90a code does not run on later GPUs");
        // the tensor-core default of each capability
        assertEquals(dev.moe.fp8.CudaGemmKernel.EXACT, dev.moe.fp8.CudaGemmKernel.fastestFor(75, true));
        assertEquals(dev.moe.fp8.CudaGemmKernel.MMA, dev.moe.fp8.CudaGemmKernel.fastestFor(80, true));
        assertEquals(dev.moe.fp8.CudaGemmKernel.MMA, dev.moe.fp8.CudaGemmKernel.fastestFor(89, true));
        assertEquals(dev.moe.fp8.CudaGemmKernel.WGMMA_TMA, dev.moe.fp8.CudaGemmKernel.fastestFor(90, true));
        assertEquals(dev.moe.fp8.CudaGemmKernel.MMA, dev.moe.fp8.CudaGemmKernel.fastestFor(100, true));
        assertTrue(dev.moe.fp8.CudaGemmKernel.EXACT.runsOn(50, false));
        assertFalse(dev.moe.fp8.CudaGemmKernel.WGMMA.runsOn(89, true));
        // an sm_90 device with a library built without the sm_90a image: no wgmma, and the fix is named
        assertFalse(dev.moe.fp8.CudaGemmKernel.WGMMA_TMA.runsOn(90, false));
        assertEquals(dev.moe.fp8.CudaGemmKernel.MMA, dev.moe.fp8.CudaGemmKernel.fastestFor(90, false));
        assertTrue(Backends.gemmKernels(90, false).contains("no wgmma") && Backends.gemmKernels(90, false).contains("90a"),
                Backends.gemmKernels(90, false));
    }

    @Test
    void explicitDeviceChoiceIsChecked() {
        RoutingConfig c = RoutingConfig.deepseekV3();
        assertThrows(IllegalArgumentException.class, () -> Routers.cuda(c, -1));
        assertThrows(IllegalArgumentException.class, () -> dev.moe.fp8.Fp8Gemm.cuda(-1, false));
        assertThrows(IllegalArgumentException.class, () -> dev.moe.fp8.Fp8Quantizer.cuda(-1));
        if (!Backends.status(Backend.CUDA).usable()) {
            assertThrows(BackendUnavailableException.class, () -> Routers.cuda(c, 0));
            assertThrows(BackendUnavailableException.class, () -> dev.moe.fp8.Fp8Gemm.cuda(0, true));
            assertThrows(BackendUnavailableException.class, () -> dev.moe.fp8.Fp8Gemm.cuda(0, dev.moe.fp8.CudaGemmKernel.WGMMA_TMA));
            assertThrows(BackendUnavailableException.class, () -> dev.moe.fp8.Fp8Quantizer.cuda(0));
        } else {
            assertEquals(Backend.CUDA, Routers.cuda(c, 0).backend());
        }
    }
}
