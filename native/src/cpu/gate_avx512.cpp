// The gate kernel built with AVX-512F on top of AVX2: the 16-lane flow (gate_flow16.inc) where it applies,
// the AVX2 flow with a 16-lane sigmoid pass elsewhere. api.cpp calls it only under the AVX512 kernel variant (CPU and OS checked).
#include "kernels.hpp"
#ifndef __AVX512F__
#error "gate_avx512.cpp must be compiled with -mavx512f -mavx2 -mfma"
#endif
// GCC 12 reports its own AVX-512 intrinsics (their _mm512_undefined_* pass-through operand) as "may be used
// uninitialized" once they are inlined into the OpenMP region: a false positive (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define MOE_KERNEL_NAMESPACE avx512
#define MOE_KERNEL_AVX2 1
#define MOE_KERNEL_AVX512 1
#include "gate_kernel.inc"
