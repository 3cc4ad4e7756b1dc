package dev.moe.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.nativelib.MoeNative;

/** What the CPU library reports about this CPU ({@code moe_library_query}), for tests that run every kernel variant. */
public final class CpuInfo {
    private CpuInfo() {}

    /** {@return whether the CPU has AVX2+FMA+F16C, what the fast kernels need} */
    public static boolean hasAvx2() {
        return query(moe_library_info::cpu_has_avx2) == 1;
    }

    /** {@return the kernel variant in use: MOE_CPU_KERNEL_PORTABLE or MOE_CPU_KERNEL_AVX2} */
    public static int kernel() {
        return query(moe_library_info::cpu_kernel);
    }

    private static int query(java.util.function.ToIntFunction<MemorySegment> field) {
        MoeNative.cpu();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = moe_library_info.allocate(arena);
            if (moe_h.moe_library_query(info) != moe_h.MOE_STATUS_OK()) {
                throw new IllegalStateException("moe_library_query failed");
            }
            return field.applyAsInt(info);
        }
    }
}
