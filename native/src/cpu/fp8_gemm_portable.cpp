// The FP8 GEMM for baseline x86-64 (scalar), used without AVX2 or when the portable kernel is chosen.
#define MOE_KERNEL_NAMESPACE portable
#include "fp8_gemm_kernel.inc"
