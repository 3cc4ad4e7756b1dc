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

// *present: whether the image this library's driver loads for `device` is the sm_90a one, whose Hopper
// kernels are real (a plain sm_90 image loads on the same devices, with every wgmma kernel a trap). Read
// from the device once per device, then cached (hopper.cu).
int32_t wgmma_image_present(int32_t device, bool* present);

// Selects `device`; MOE_STATUS_OK when it runs the Hopper kernels (compute capability 9.0 and the sm_90a
// image present), MOE_STATUS_UNSUPPORTED_GPU when not.
int32_t require_wgmma(int32_t device);

// The CUDA driver's version (cudaDriverGetVersion: 1000 major + 10 minor, 0 without a driver) and the
// version of the runtime linked into this library (cudaRuntimeGetVersion). The static CUDA 13 runtime
// needs a driver of at least 13000 (R580); an older one fails every call with
// cudaErrorInsufficientDriver (35).
void versions(int32_t* driver, int32_t* runtime);

}  // namespace cuda
}  // namespace moe
