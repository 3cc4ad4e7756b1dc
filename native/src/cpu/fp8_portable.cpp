// The FP8 E4M3 kernels built for baseline x86-64 (scalar); selected like the gate kernel.
#include "fp8_kernels.hpp"
#define MOE_KERNEL_NAMESPACE portable
#include "fp8_kernel.inc"
