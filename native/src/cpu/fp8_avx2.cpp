// The FP8 E4M3 kernels built with -mavx2 -mfma -mf16c; fp8_api.cpp calls them only after checking the CPU.
#include "fp8_kernels.hpp"
#ifndef __AVX2__
#error "fp8_avx2.cpp must be compiled with -mavx2"
#endif
#define MOE_KERNEL_NAMESPACE avx2
#define MOE_KERNEL_AVX2 1
#include "fp8_kernel.inc"
