// The gate kernel built for baseline x86-64 (no AVX): used on CPUs without AVX2/FMA/F16C, and
// selectable for testing with moe_cpu_set_kernel(MOE_CPU_KERNEL_PORTABLE).
#include "kernels.hpp"
#define MOE_KERNEL_NAMESPACE portable
#include "gate_kernel.inc"
