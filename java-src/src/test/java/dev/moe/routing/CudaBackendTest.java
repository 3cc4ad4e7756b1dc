package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * CUDA backend selection. Without a usable GPU (no driver: CUDA error 35; no device: 100) the
 * backend reports why and is never chosen or substituted; the gpu-tagged test needs a real GPU and
 * is skipped (with the reason) elsewhere.
 */
class CudaBackendTest {

    @Test
    void cudaIsUnusableWithAReasonAndNeverReplacedSilently() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assertFalse(cuda.usable(), "this build has no CUDA gate kernel yet");
        assertFalse(cuda.detail().isBlank());
        var e = assertThrows(BackendUnavailableException.class, () -> Routers.create(RoutingConfig.deepseekV3(), Backend.CUDA));
        assertTrue(e.getMessage().startsWith("backend cuda is not available: "), e.getMessage());
    }

    @Test
    void autoPicksTheCpuWhenNoGpuIsUsable() {
        assertEquals(Backend.CPU, Routers.create(RoutingConfig.deepseekV3(), Backend.AUTO).backend());
    }

    @Test
    @Tag("gpu")
    void gpuIsDetectedWhereOneExists() {
        BackendStatus cuda = Backends.status(Backend.CUDA);
        assumeTrue(cuda.detail().contains("GPU(s) found"), "no usable GPU here: " + cuda.detail());
        assertTrue(cuda.detail().matches("\\d+ GPU\\(s\\) found .*"), cuda.detail());
    }
}
