package dev.moe.nativecall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dev.moe.bindings.moe_h;
import dev.moe.cuda.DeviceArena;
import dev.moe.nativecall.Fp8GemmArgs;
import dev.moe.nativelib.CudaException;
import dev.moe.nativelib.MoeNative;

/** One mapping of the C ABI's status codes to exceptions, for CPU and CUDA calls alike. */
class NativeStatusTest {
    private static final MemorySegment P = MemorySegment.ofAddress(4096);
    private static final int NO_SUCH_DEVICE = 1 << 20;

    @Test
    void statusesMapToTheirExceptions() {
        MoeNative.cpu();
        NativeStatus.check(moe_h.MOE_STATUS_OK(), "ok");
        for (int bad : new int[] {moe_h.MOE_STATUS_NULL_POINTER(), moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.MOE_STATUS_BAD_BUFFER_SIZE(),
            moe_h.MOE_STATUS_NON_FINITE_INPUT()}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeStatus.check(bad, "call"));
            assertEquals("call failed with status " + bad + ": " + NativeStatus.message(bad), e.getMessage());
        }
        assertInstanceOf(UnsupportedOperationException.class, NativeStatus.failure(moe_h.MOE_STATUS_NOT_IMPLEMENTED(), "call"));
        assertEquals(IllegalStateException.class, NativeStatus.failure(moe_h.MOE_STATUS_UNSUPPORTED_CPU(), "call").getClass());
        assertEquals(IllegalStateException.class, NativeStatus.failure(moe_h.MOE_STATUS_INTERNAL_ERROR(), "call").getClass());
        CudaException gpu = assertInstanceOf(CudaException.class, NativeStatus.failure(moe_h.MOE_STATUS_UNSUPPORTED_GPU(), "call"));
        assertTrue(gpu.unsupportedGpu());
    }

    /** A failed kernel call keeps the CUDA runtime's error code, as the runtime helpers always did. */
    @Test
    void aFailedCudaKernelCallKeepsTheCudaErrorCode() {
        requireCudaLibrary();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = Fp8GemmArgs.allocate(arena, moe_h.MOE_GEMM_KERNEL_EXACT()).dense(2, 3, 130)
                    .operands(P, 260, P, 4, P, 390, P, 2, P, 6).on(NO_SUCH_DEVICE, MemorySegment.NULL).segment();
            int status = moe_h.moe_fp8_gemm_cuda(args);
            assertEquals(moe_h.MOE_STATUS_NO_GPU(), status);
            CudaException e = assertThrows(CudaException.class, () -> NativeStatus.check(status, "FP8 GEMM"));
            assertTrue(e.cudaError() != 0, e.getMessage());
            assertFalse(e.unsupportedGpu());
            assertTrue(e.getMessage().contains("CUDA error " + e.cudaError() + " (" + e.cudaErrorText() + ")"), e.getMessage());
        }
    }

    @Test
    void aFailedCudaRuntimeCallKeepsTheCudaErrorCode() {
        requireCudaLibrary();
        try (DeviceArena arena = new DeviceArena(NO_SUCH_DEVICE)) {
            CudaException e = assertThrows(CudaException.class, () -> arena.allocate(16));
            assertTrue(e.cudaError() != 0 && !e.cudaErrorText().isBlank(), e.getMessage());
            assertTrue(e.getMessage().startsWith("cudaMalloc(16 bytes) failed with status " + moe_h.MOE_STATUS_NO_GPU()), e.getMessage());
        }
    }

    private static void requireCudaLibrary() {
        try {
            MoeNative.cuda();
        } catch (RuntimeException | LinkageError e) {
            assumeTrue(false, "CUDA library not loadable: " + e.getMessage());
        }
    }
}
