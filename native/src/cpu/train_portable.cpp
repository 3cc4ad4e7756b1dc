// Training's element-wise kernels built for baseline x86-64 (no AVX), with the AVX2 build's bits.
#define MOE_KERNEL_NAMESPACE portable
#include "train_kernel.inc"
