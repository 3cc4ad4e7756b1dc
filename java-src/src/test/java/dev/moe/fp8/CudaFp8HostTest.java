package dev.moe.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.moe.backend.Backend;
import dev.moe.backend.Backends;
import dev.moe.bindings.moe_h;
import dev.moe.bindings.moe_testkit_h;
import dev.moe.nativelib.MoeNative;
import dev.moe.nativelib.MoeTestkit;

/**
 * What of the CUDA FP8 path can be checked without a GPU: the arithmetic of the CUDA kernels (the
 * {@code __host__ __device__} header fp8_codec.cuh, compiled into the testkit for its codec self-test)
 * against the CPU codec, and the C ABI's argument checks and its
 * {@code MOE_STATUS_NO_GPU} answer on a machine without one. The GPU runs are {@link CudaFp8Test}.
 */
class CudaFp8HostTest {
    /** Fake but non-NULL device pointers: every call below fails its checks before touching them. */
    private static final MemorySegment P = MemorySegment.ofAddress(4096);

    /** All 2^32 encodes, 256 decodes and sampled tile scales and x / s codes: the CUDA arithmetic equals the CPU's. */
    @Test
    @Tag("exhaustive")
    void cudaCodecArithmeticEqualsTheCpuCodecBitForBit() {
        MoeTestkit.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mismatches = arena.allocate(ValueLayout.JAVA_LONG);
            mismatches.set(ValueLayout.JAVA_LONG, 0, -1);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_testkit_h.moe_testkit_fp8_codec_selftest(mismatches));
            assertEquals(0, mismatches.get(ValueLayout.JAVA_LONG, 0), "results of fp8_codec.cuh that differ from the CPU codec");
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_testkit_h.moe_testkit_fp8_codec_selftest(MemorySegment.NULL));
        }
    }

    @Test
    void argumentChecksComeBeforeTheDevice() {
        requireCudaLibrary();
        int ok = moe_h.MOE_STATUS_OK();
        int size = moe_h.MOE_STATUS_BAD_BUFFER_SIZE();
        int nul = moe_h.MOE_STATUS_NULL_POINTER();
        int config = moe_h.MOE_STATUS_INVALID_CONFIG();
        MemorySegment n = MemorySegment.NULL;
        int b1 = moe_h.MOE_FP8_BLOCK_1X128();
        int b128 = moe_h.MOE_FP8_BLOCK_128X128();

        int none = moe_h.MOE_FP8_BLOCK_NONE();
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 8, 1, 8, none, 0, P, 7, n, 0, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, -1, -1, 1, none, 0, P, -1, n, 0, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 8, 1, 8, none, 0, P, 8, P, 1, n));
        assertEquals(config, moe_h.moe_fp8_quantize_cuda(0, n, P, 8, 1, 8, none, 1, P, 8, n, 0, n));
        assertEquals(nul, moe_h.moe_fp8_quantize_cuda(0, n, n, 8, 1, 8, none, 0, P, 8, n, 0, n));
        assertEquals(ok, moe_h.moe_fp8_quantize_cuda(0, n, n, 0, 0, 8, none, 0, n, 0, n, 0, n));
        assertEquals(size, moe_h.moe_fp8_e4m3_decode_cuda(0, n, P, 8, P, 9));
        assertEquals(nul, moe_h.moe_fp8_e4m3_decode_cuda(0, n, P, 8, n, 8));
        assertEquals(ok, moe_h.moe_fp8_e4m3_decode_cuda(0, n, n, 0, n, 0));

        // Same checks, same order as moe_fp8_quantize_cpu: config, sizes, empty, pointers.
        assertEquals(config, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, 7, 0, P, 6, P, 2, n));
        assertEquals(config, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, b1, 2, P, 6, P, 2, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, -2, -3, b1, 0, P, 6, P, 2, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, b1, 0, P, 6, P, 1, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, b128, 0, P, 6, P, 2, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, b1, 0, P, 5, P, 2, n));
        assertEquals(size, moe_h.moe_fp8_quantize_cuda(0, n, P, 0, 1L << 32, 1L << 32, b1, 0, P, 0, P, 0, n));
        assertEquals(nul, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, b128, 1, P, 6, n, 1, P));
        assertEquals(ok, moe_h.moe_fp8_quantize_cuda(0, n, n, 0, 0, 300, b1, 0, n, 0, n, 0, n));
        assertEquals(ok, moe_h.moe_fp8_quantize_cuda(0, n, n, 0, 5, 0, b128, 1, n, 0, n, 0, n));

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            out.set(ValueLayout.ADDRESS, 0, P);
            assertEquals(nul, moe_h.moe_cuda_malloc(0, 16, n));
            assertEquals(size, moe_h.moe_cuda_malloc(0, -1, out));
            assertEquals(ok, moe_h.moe_cuda_malloc(0, 0, out));
            assertEquals(0, out.get(ValueLayout.ADDRESS, 0).address(), "0 bytes give NULL");
            assertEquals(nul, moe_h.moe_cuda_stream_create(0, n));
        }
        assertEquals(ok, moe_h.moe_cuda_free(0, n));
        assertEquals(ok, moe_h.moe_cuda_stream_destroy(0, n));
        assertEquals(config, moe_h.moe_cuda_memcpy(0, n, P, P, 16, 0));
        assertEquals(config, moe_h.moe_cuda_memcpy(0, n, P, P, 16, 4));
        assertEquals(size, moe_h.moe_cuda_memcpy(0, n, P, P, -1, moe_h.MOE_CUDA_H2D()));
        assertEquals(nul, moe_h.moe_cuda_memcpy(0, n, n, P, 16, moe_h.MOE_CUDA_D2H()));
        assertEquals(ok, moe_h.moe_cuda_memcpy(0, n, n, n, 0, moe_h.MOE_CUDA_D2D()));
        assertEquals(size, moe_h.moe_cuda_memset(0, n, P, 0, -1));
        assertEquals(nul, moe_h.moe_cuda_memset(0, n, n, 0, 16));
        assertEquals(ok, moe_h.moe_cuda_memset(0, n, n, 0, 0));
    }

    @Test
    void withoutAGpuEveryDeviceCallAnswersNoGpu() {
        requireCudaLibrary();
        String detail = Backends.status(Backend.CUDA).detail();
        assumeFalse(detail.contains("GPU(s) found"), "a GPU is present: " + detail);
        int noGpu = moe_h.MOE_STATUS_NO_GPU();
        MemorySegment n = MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            assertEquals(noGpu, moe_h.moe_cuda_malloc(0, 16, out));
            int code = moe_h.moe_cuda_last_error(MemorySegment.NULL, 0);
            assertTrue(code != 0 && detail.contains("CUDA error " + code + " "), "last error " + code + " vs probe: " + detail);
            // (A runtime that failed to initialise keeps reporting that error, so it is not cleared here.)
            assertEquals(noGpu, moe_h.moe_cuda_stream_create(0, out));
            assertEquals(noGpu, moe_h.moe_cuda_malloc(-1, 16, out));
        }
        assertEquals(noGpu, moe_h.moe_cuda_free(0, P));
        assertEquals(noGpu, moe_h.moe_cuda_memcpy(0, n, P, P, 16, moe_h.MOE_CUDA_H2D()));
        assertEquals(noGpu, moe_h.moe_cuda_memset(0, n, P, 0, 16));
        assertEquals(noGpu, moe_h.moe_cuda_stream_synchronize(0, n));
        assertEquals(noGpu, moe_h.moe_fp8_quantize_cuda(0, n, P, 8, 1, 8, moe_h.MOE_FP8_BLOCK_NONE(), 0, P, 8, n, 0, n));
        assertEquals(noGpu, moe_h.moe_fp8_e4m3_decode_cuda(0, n, P, 8, P, 8));
        assertEquals(noGpu, moe_h.moe_fp8_quantize_cuda(0, n, P, 6, 2, 3, moe_h.MOE_FP8_BLOCK_1X128(), 0, P, 6, P, 2, P));
        assertTrue(moe_h.moe_cuda_last_error(MemorySegment.NULL, 0) != 0);
    }

    private static void requireCudaLibrary() {
        try {
            MoeNative.cuda();
        } catch (RuntimeException | LinkageError e) {
            assumeTrue(false, "CUDA library not loadable: " + e.getMessage());
        }
    }
}
