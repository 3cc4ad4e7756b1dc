// Mapping of CUDA runtime errors to MOE_STATUS_* for the moe_cuda library, and the per-thread record of
// the last failing CUDA call that moe_cuda_last_error() reports (defined in runtime.cu). Internal.
#pragma once
#include <cuda_runtime.h>

#include "moe/moe.h"

namespace moe {
namespace cuda {

// Remembers e for moe_cuda_last_error() (and clears the runtime's own last error) and returns the
// status it maps to: MOE_STATUS_NO_GPU for a missing driver or device, MOE_STATUS_OUT_OF_MEMORY for a
// failed allocation, MOE_STATUS_CUDA_ERROR otherwise; MOE_STATUS_OK for cudaSuccess.
int32_t fail(cudaError_t e);

// cudaSetDevice(device), mapped as by fail().
int32_t select_device(int32_t device);

// The compute capability of `device` as major * 10 + minor into *cc, mapped as by fail().
int32_t compute_capability(int32_t device, int* cc);

// MOE_STATUS_OK when `device` can run the tensor-core GEMM (compute capability 8.0+: FP8 MMA from 8.9, BF16
// MMA before), else MOE_STATUS_UNSUPPORTED_GPU.
int32_t require_tensor_cores(int32_t device);

// MOE_STATUS_OK when `device` has compute capability exactly 9.0 (the wgmma GEMM's sm_90a code runs on
// nothing else), else MOE_STATUS_UNSUPPORTED_GPU.
int32_t require_hopper(int32_t device);

}  // namespace cuda
}  // namespace moe
