package dev.moe.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.moe.bindings.CpuInfo;
import dev.moe.bindings.moe_h;

class CpuKernelChoiceTest {
    @AfterEach
    void restore() {
        moe_h.moe_cpu_set_kernel(moe_h.MOE_CPU_KERNEL_AUTO());
    }

    @Test
    void namesSetTheVariant() {
        MoeNative.cpu();
        assertNull(CpuKernelChoice.apply(null));
        assertNull(CpuKernelChoice.apply("portable"));
        assertEquals(moe_h.MOE_CPU_KERNEL_PORTABLE(), CpuInfo.kernel());
        for (int kernel : CpuInfo.kernels()) {
            String name = kernel == moe_h.MOE_CPU_KERNEL_AVX512_BF16() ? "AVX512-BF16"
                    : kernel == moe_h.MOE_CPU_KERNEL_AVX512() ? "avx512" : kernel == moe_h.MOE_CPU_KERNEL_AVX2() ? " avx2 " : "portable";
            assertNull(CpuKernelChoice.apply(name), name);
            assertEquals(kernel, CpuInfo.kernel(), name);
            assertEquals(name.trim().toLowerCase(java.util.Locale.ROOT), CpuKernelChoice.name(kernel));
        }
        assertNull(CpuKernelChoice.apply("auto"));
        assertEquals(CpuInfo.kernels().get(0), CpuInfo.kernel(), "auto picks the widest");
    }

    @Test
    void unknownOrUnsupportedNamesAreErrors() {
        MoeNative.cpu();
        assertThrows(IllegalArgumentException.class, () -> CpuKernelChoice.name(99));
        NativeLibraryException e = CpuKernelChoice.apply("sse4");
        assertNotNull(e);
        assertTrue(e.getMessage().contains("-Dmoe.cpu.kernel=sse4: expected auto, portable, avx2, avx512 or avx512-bf16"),
                e.getMessage());
        if (!CpuInfo.hasAvx512Bf16()) {
            NativeLibraryException u = CpuKernelChoice.apply("avx512-bf16");
            assertNotNull(u);
            assertTrue(u.getMessage().contains("lacks the instruction set"), u.getMessage());
        }
    }
}
