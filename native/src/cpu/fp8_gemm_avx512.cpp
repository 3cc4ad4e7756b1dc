// The FP8 GEMM built for AVX-512 (x86-64-v4); fp8_gemm_api.cpp calls it only after checking the CPU.
#ifndef __AVX512F__
#error "fp8_gemm_avx512.cpp must be compiled with -mavx512f -mavx512vl -mavx2 -mfma -mf16c"
#endif
#define MOE_KERNEL_NAMESPACE avx512
#define MOE_KERNEL_AVX2 1
#define MOE_KERNEL_AVX512 1
#include "fp8_gemm_kernel.inc"
