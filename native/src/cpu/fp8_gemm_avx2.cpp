// The FP8 GEMM built with -mavx2 -mfma -mf16c; fp8_gemm_api.cpp calls it only after checking the CPU.
#ifndef __AVX2__
#error "fp8_gemm_avx2.cpp must be compiled with -mavx2 -mfma -mf16c"
#endif
#define MOE_KERNEL_NAMESPACE avx2
#define MOE_KERNEL_AVX2 1
#include "fp8_gemm_kernel.inc"
