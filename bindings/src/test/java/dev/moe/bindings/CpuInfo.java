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

    /** {@return whether the CPU and OS also support AVX-512F+VL, what the AVX512 variant needs} */
    public static boolean hasAvx512() {
        return query(moe_library_info::cpu_has_avx512) == 1;
    }

    /** {@return whether the CPU also has AVX512_BF16 and AVX512BW, what the AVX512_BF16 variant needs} */
    public static boolean hasAvx512Bf16() {
        return query(moe_library_info::cpu_has_avx512_bf16) == 1;
    }

    /** {@return every kernel variant this CPU can run, widest first} */
    public static java.util.List<Integer> kernels() {
        java.util.List<Integer> list = new java.util.ArrayList<>();
        if (hasAvx512Bf16()) {
            list.add(moe_h.MOE_CPU_KERNEL_AVX512_BF16());
        }
        if (hasAvx512()) {
            list.add(moe_h.MOE_CPU_KERNEL_AVX512());
        }
        if (hasAvx2()) {
            list.add(moe_h.MOE_CPU_KERNEL_AVX2());
        }
        list.add(moe_h.MOE_CPU_KERNEL_PORTABLE());
        return java.util.List.copyOf(list);
    }

    /** {@return the kernel variant in use: MOE_CPU_KERNEL_PORTABLE, _AVX2, _AVX512 or _AVX512_BF16} */
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
