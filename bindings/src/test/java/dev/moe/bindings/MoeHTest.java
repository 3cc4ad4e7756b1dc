package dev.moe.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.moe.nativelib.MoeNative;

/** The generated bindings against the C ABI, directly (no Java convenience layer). */
class MoeHTest {

    @BeforeAll
    static void load() {
        MoeNative.cpu();
    }

    @Test
    void structLayoutsMatchTheHeader() {
        // The same numbers are static_asserts in native/src/cpu/api.cpp.
        assertEquals(40, moe_gate_config.sizeof());
        assertEquals(32, moe_gate_config.route_scale$offset());
        assertEquals(36, moe_gate_config.bias_mode$offset());
        assertEquals(16, moe_gate_stats.sizeof());
        assertEquals(8, moe_gate_stats.zero_sum_rows$offset());
        assertEquals(32, moe_library_info.sizeof());
        assertEquals(20, moe_library_info.cpu_max_threads$offset());
        assertEquals(24, moe_library_info.cpu_has_avx512$offset());
        assertEquals(28, moe_library_info.cpu_has_avx512_bf16$offset());
        assertEquals(200, moe_fp8_gemm_args.sizeof());
        assertEquals(32, moe_fp8_gemm_args.m$offset());
        assertEquals(96, moe_fp8_gemm_args.offsets$offset());
        assertEquals(184, moe_fp8_gemm_args.c_count$offset());
        assertEquals(192, moe_fp8_gemm_args.stream$offset());
        assertEquals(224, moe_layer_args.sizeof());
        assertEquals(40, moe_layer_args.gemm_kernel$offset());
        assertEquals(48, moe_layer_args.tokens$offset());
        assertEquals(80, moe_layer_args.x$offset());
        assertEquals(40, moe_cuda_device_info.sizeof());
        assertEquals(16, moe_cuda_device_info.driver_version$offset());
        assertEquals(24, moe_cuda_device_info.has_wgmma_image$offset());
        assertEquals(32, moe_cuda_device_info.name$offset());
    }

    @Test
    void statusMessagesAndLibraryInfo() {
        assertEquals("ok", moe_h.moe_status_message(moe_h.MOE_STATUS_OK()).getString(0));
        assertEquals("invalid configuration", moe_h.moe_status_message(moe_h.MOE_STATUS_INVALID_CONFIG()).getString(0));
        assertEquals("unknown status code", moe_h.moe_status_message(12345).getString(0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = moe_library_info.allocate(arena);
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_library_query(info));
            assertEquals(moe_h.MOE_ABI_VERSION(), moe_library_info.abi_version(info));
            assertTrue(!moe_library_info.version(info).getString(0).isBlank());
            assertTrue(moe_library_info.cpu_max_threads(info) >= 1);
            int kernel = moe_library_info.cpu_kernel(info);
            assertTrue(kernel == moe_h.MOE_CPU_KERNEL_PORTABLE() || kernel == moe_h.MOE_CPU_KERNEL_AVX2()
                    || kernel == moe_h.MOE_CPU_KERNEL_AVX512() || kernel == moe_h.MOE_CPU_KERNEL_AVX512_BF16(), "kernel " + kernel);
            // AVX-512 implies AVX2 (the AVX512 variant runs the AVX2 kernels that have no wider form).
            int avx512 = moe_library_info.cpu_has_avx512(info);
            assertTrue(avx512 == 0 || avx512 == 1 && moe_library_info.cpu_has_avx2(info) == 1, "cpu_has_avx512 " + avx512);
            int bf16 = moe_library_info.cpu_has_avx512_bf16(info);
            assertTrue(bf16 == 0 || bf16 == 1 && avx512 == 1, "cpu_has_avx512_bf16 " + bf16);
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_library_query(MemorySegment.NULL));
        }
    }

    static MemorySegment config(Arena arena, int n, int g, int m, int k) {
        MemorySegment c = moe_gate_config.allocate(arena);
        moe_gate_config.num_experts(c, n);
        moe_gate_config.num_groups(c, g);
        moe_gate_config.topk_groups(c, m);
        moe_gate_config.topk(c, k);
        moe_gate_config.score_func(c, moe_h.MOE_SCORE_SIGMOID());
        moe_gate_config.group_score(c, moe_h.MOE_GROUP_SCORE_TOP_J_SUM());
        moe_gate_config.group_topj(c, 2);
        moe_gate_config.normalize(c, 1);
        moe_gate_config.route_scale(c, 2.5f);
        return c;
    }

    @Test
    void gateOnTheSpecConformanceVector() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = config(arena, 8, 4, 2, 3);
            MemorySegment z = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 2, 1, 0.5f, 0, -1, -2, 3, -3);
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, -1.5f, -1.5f, -0.1f, -0.1f, -0.3f, -0.3f, -1, -1);
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, 3);
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, 8);
            MemorySegment stats = moe_gate_stats.allocate(arena);
            int st = moe_h.moe_gate_cpu(c, z, 8, b, 8, 1, ids, 3, w, 3, load, 8, stats);
            assertEquals(moe_h.MOE_STATUS_OK(), st);
            assertArrayEquals(new int[] {2, 3, 4}, ids.toArray(ValueLayout.JAVA_INT));
            float[] weights = w.toArray(ValueLayout.JAVA_FLOAT);
            assertEquals(1.1184, weights[0], 1e-4);
            assertEquals(0.8984, weights[1], 1e-4);
            assertEquals(0.4832, weights[2], 1e-4);
            assertArrayEquals(new long[] {0, 0, 1, 1, 1, 0, 0, 0}, load.toArray(ValueLayout.JAVA_LONG));
            assertEquals(-1, moe_gate_stats.first_bad_row(stats));

            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_gate_cpu(c, z, 8, b, 8, 1, ids, 2, w, 3, load, 8, stats));
            assertEquals(moe_h.MOE_STATUS_BAD_BUFFER_SIZE(), moe_h.moe_gate_cpu(c, z, 8, b, 7, 1, ids, 3, w, 3, load, 8, stats));
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_gate_config_check(MemorySegment.NULL));
        }
    }

    @Test
    void nonFiniteRowIsReportedAndLoadUntouched() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = config(arena, 8, 4, 2, 3);
            MemorySegment z = arena.allocate(ValueLayout.JAVA_FLOAT, 3 * 8);
            z.setAtIndex(ValueLayout.JAVA_FLOAT, 8 + 5, Float.NaN);
            MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, 8);
            MemorySegment stats = moe_gate_stats.allocate(arena);
            int st = moe_h.moe_gate_cpu(c, z, 24, MemorySegment.NULL, 0, 3, arena.allocate(4 * 9), 9,
                    arena.allocate(4 * 9), 9, load, 8, stats);
            assertEquals(moe_h.MOE_STATUS_NON_FINITE_INPUT(), st);
            assertEquals(1, moe_gate_stats.first_bad_row(stats));
            assertArrayEquals(new long[8], load.toArray(ValueLayout.JAVA_LONG));
        }
    }

    @Test
    void configCheckRejectsWhatTheSpecRejects() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(moe_h.MOE_STATUS_OK(), moe_h.moe_gate_config_check(config(arena, 256, 8, 4, 8)));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_gate_config_check(config(arena, 10, 4, 2, 2)));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_gate_config_check(config(arena, 16, 8, 9, 2)));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_gate_config_check(config(arena, 16, 8, 1, 3)));
            assertEquals(moe_h.MOE_STATUS_INVALID_CONFIG(), moe_h.moe_gate_config_check(config(arena, 8, 8, 4, 4)));
        }
    }

    /** The host twins and self-tests live in the testkit: the product library exports none of them. */
    @Test
    void productLibraryHoldsNoTestCode() {
        java.lang.foreign.SymbolLookup product = java.lang.foreign.SymbolLookup.libraryLookup(MoeNative.cpu().path(), Arena.global());
        java.lang.foreign.SymbolLookup testkit =
                java.lang.foreign.SymbolLookup.libraryLookup(dev.moe.nativelib.MoeTestkit.load().path(), Arena.global());
        int checked = 0;
        for (java.lang.reflect.Method m : moe_testkit_h.class.getMethods()) {
            String name = m.getName();
            if (name.startsWith("moe_testkit_") && !name.contains("$")) {
                assertTrue(product.find(name).isEmpty(), name + " is exported by libmoe");
                assertTrue(testkit.find(name).isPresent(), name + " is missing from libmoe_testkit");
                checked++;
            }
        }
        assertEquals(5, checked);
        assertTrue(product.find("moe_gate_cpu").isPresent());
    }

    @Test
    void cudaDeviceQueryNeverCrashes() {
        try {
            MoeNative.cuda();
        } catch (RuntimeException e) {
            return;  // built without nvcc: nothing to query
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = moe_cuda_device_info.allocate(arena);
            int st = moe_h.moe_cuda_device_query(0, info);
            assertTrue(st == moe_h.MOE_STATUS_OK() || st == moe_h.MOE_STATUS_NO_GPU(), "status " + st);
            assertTrue(moe_cuda_device_info.device_count(info) >= 0);
            assertEquals(moe_h.MOE_ABI_VERSION(), moe_h.moe_cuda_abi_version());
            MemorySegment message = arena.allocate(256);
            int code = moe_h.moe_cuda_last_error(message, message.byteSize());
            if (st == moe_h.MOE_STATUS_NO_GPU()) {
                assertTrue(code != 0 && !message.getString(0).isBlank(), "the reason is kept: " + code);
            }
            assertEquals(moe_h.MOE_STATUS_NO_GPU(), moe_h.moe_cuda_device_query(-1, info), "a device index out of range");
            assertEquals(moe_h.MOE_STATUS_NULL_POINTER(), moe_h.moe_cuda_device_query(0, MemorySegment.NULL));
        }
    }
}
