// The FP32 GEMM built for AVX-512 (x86-64-v4); the entry calls it only after checking the CPU.
#ifndef __AVX512F__
#error "f32_gemm_avx512.cpp must be compiled with -mavx512f -mavx512vl -mavx2 -mfma"
#endif
#define MOE_KERNEL_NAMESPACE avx512
#define MOE_KERNEL_AVX2 1
#define MOE_KERNEL_AVX512 1
#include "f32_gemm_kernel.inc"
