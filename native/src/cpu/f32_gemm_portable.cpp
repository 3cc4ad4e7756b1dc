// The FP32 GEMM for baseline x86-64 (scalar), used without AVX2 or when the portable kernel is chosen.
#define MOE_KERNEL_NAMESPACE portable
#include "f32_gemm_kernel.inc"
