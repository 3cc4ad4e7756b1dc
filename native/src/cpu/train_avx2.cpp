// Training's element-wise kernels built with -mavx2 -mfma; the entry calls them only after checking the
// CPU (the AVX512 variant uses them too: element-wise work gains little from wider vectors).
#ifndef __AVX2__
#error "train_avx2.cpp must be compiled with -mavx2 -mfma"
#endif
#define MOE_KERNEL_NAMESPACE avx2
#define MOE_KERNEL_AVX2 1
#include "train_kernel.inc"
