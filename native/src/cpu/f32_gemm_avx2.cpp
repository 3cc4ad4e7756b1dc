// The FP32 GEMM built with -mavx2 -mfma; the entry calls it only after checking the CPU.
#ifndef __AVX2__
#error "f32_gemm_avx2.cpp must be compiled with -mavx2 -mfma"
#endif
#define MOE_KERNEL_NAMESPACE avx2
#define MOE_KERNEL_AVX2 1
#include "f32_gemm_kernel.inc"
