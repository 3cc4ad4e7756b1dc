// The FP8 GEMM built for AVX-512 with BF16 dot products (AVX512_BF16, AVX512BW):
// the paths of fp8_gemm_bf16.inc; fp8_gemm_api.cpp calls it only after checking the CPU.
#if !defined(__AVX512BF16__) || !defined(__AVX512BW__)
#error "fp8_gemm_avx512bf16.cpp must be compiled with -mavx512f -mavx512vl -mavx512bw -mavx512bf16 -mavx2 -mfma -mf16c"
#endif
// GCC 12 reports its own AVX-512 intrinsics (their _mm512_undefined_* pass-through operand) as "may be used
// uninitialized" once they are inlined into the OpenMP region: a false positive (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define MOE_KERNEL_NAMESPACE avx512bf16
#define MOE_KERNEL_AVX2 1
#define MOE_KERNEL_AVX512 1
#define MOE_KERNEL_BF16 1
#include "fp8_gemm_kernel.inc"
