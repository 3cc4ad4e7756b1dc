// The CPU's features and the kernel variant in use: the entry points of the CPU library dispatch on them,
// the tests run every variant the CPU has. Internal.
#pragma once
#include <cstdint>

#include "moe/moe.h"

namespace moe {

// True when the CPU has AVX2, FMA and F16C: what the fast kernels are built for.
inline bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return false;
#endif
}

// True when the CPU also has AVX-512F and VL and the OS saves their registers (GCC's check reads XCR0):
// what the AVX512 variant's kernels are built for.
inline bool cpu_has_avx512() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

// True when the CPU also has AVX512_BF16 and AVX512BW: what the AVX512_BF16 variant's FP8 GEMM is built for.
inline bool cpu_has_avx512_bf16() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return cpu_has_avx512() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

// The kernel variant in use (MOE_CPU_KERNEL_PORTABLE, _AVX2, _AVX512 or _AVX512_BF16, as moe_cpu_set_kernel chose);
// defined in api.cpp.
int32_t cpu_kernel();

// Whether the variant in use runs the AVX-512 builds of the kernels that have one (AVX512 and AVX512_BF16 do).
inline bool cpu_kernel_avx512() { return cpu_kernel() >= MOE_CPU_KERNEL_AVX512; }

// Whether the variant in use runs the AVX2 builds of the kernels without an AVX-512 form (AVX2 and
// AVX512 variants do).
inline bool cpu_kernel_avx2() { return cpu_kernel() >= MOE_CPU_KERNEL_AVX2; }

}  // namespace moe
