// The CPU's features and the kernel variant in use: the entry points of the CPU library dispatch on them,
// the testkit runs both variants where the CPU has AVX2. Internal.
#pragma once
#include <cstdint>

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

// The kernel variant in use (MOE_CPU_KERNEL_PORTABLE or MOE_CPU_KERNEL_AVX2, as moe_cpu_set_kernel
// chose); defined in api.cpp.
int32_t cpu_kernel();

}  // namespace moe
