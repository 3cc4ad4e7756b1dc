// Host/device helpers shared by the code that is compiled both by nvcc for the GPU and by the host
// compiler (the CPU kernels and the testkit's host twins): the MOE_HD and MOE_HD_LOCAL qualifiers and bit
// casts between float and uint32_t.
#pragma once

#include <stdint.h>

#include <cstring>

#if defined(__CUDACC__)
#define MOE_HD __host__ __device__ __forceinline__
#else
#define MOE_HD inline
#endif

// For free functions that the CPU library compiles into both its portable and its AVX2 translation units:
// internal linkage on the host, so that each keeps its own copy (one inline definition shared by both
// could run AVX2 instructions on a CPU without them).
#if defined(__CUDACC__)
#define MOE_HD_LOCAL static __host__ __device__ __forceinline__
#else
#define MOE_HD_LOCAL static inline
#endif

// Before a loop with a compile-time trip count whose arrays must stay in registers on the device (an
// indexed accumulator array that is not fully unrolled lives in local memory); nothing on the host.
#if defined(__CUDA_ARCH__)
#define MOE_UNROLL _Pragma("unroll")
#else
#define MOE_UNROLL
#endif

namespace moe {

MOE_HD_LOCAL uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
#endif
}

MOE_HD_LOCAL float bits_to_float(uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(b);
#else
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
#endif
}

}  // namespace moe
