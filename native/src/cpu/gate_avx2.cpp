// The gate kernel built with -mavx2 -mfma -mf16c; api.cpp calls it only after checking the CPU.
#include "kernels.hpp"
#ifndef __AVX2__
#error "gate_avx2.cpp must be compiled with -mavx2 -mfma"
#endif
#define MOE_KERNEL_NAMESPACE avx2
#define MOE_KERNEL_AVX2 1
#include "gate_kernel.inc"
