// Whether a device runs the Hopper (wgmma) kernels: compute capability 9.0 and, in this library, the
// sm_90a image. A build for plain sm_90 (or "native" on an H100) also loads on such a device, but there
// every wgmma kernel body is __trap(), and a trap is a sticky error that breaks every later CUDA call of
// the process; so the image itself is asked, through a device variable whose value differs per image.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

#include "../shared/fp8_gemm_wgmma.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

// 1 in the sm_90a image (MOE_FP8_WGMMA: where wgmma, TMA and setmaxnreg are compiled), 0 in every other.
#if defined(MOE_FP8_WGMMA)
__device__ int32_t wgmma_image_flag = 1;
#else
__device__ int32_t wgmma_image_flag = 0;
#endif

// The flag of the image the driver loaded for the current device. The first call may come inside the
// caller's stream capture (the GPU-resident layer is captured into a graph): the copy runs on a stream
// of its own, with this thread's capture mode relaxed for its duration.
int32_t read_image_flag(int32_t* flag) {
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    cudaThreadExchangeStreamCaptureMode(&mode);
    cudaStream_t s = nullptr;
    cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (e == cudaSuccess) e = cudaMemcpyFromSymbolAsync(flag, wgmma_image_flag, sizeof *flag, 0, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    if (s != nullptr) cudaStreamDestroy(s);
    cudaThreadExchangeStreamCaptureMode(&mode);
    return moe::cuda::fail(e);
}

}  // namespace

namespace moe {
namespace cuda {

int32_t require_hopper(int32_t device) {
    int cc = 0;
    if (const int32_t s = compute_capability(device, &cc); s != MOE_STATUS_OK) return s;
    return cc == 90 ? MOE_STATUS_OK : MOE_STATUS_UNSUPPORTED_GPU;
}

int32_t wgmma_image_present(int32_t device, bool* present) {
    *present = false;
    constexpr int kDevices = 64;
    static std::atomic<int8_t> known[kDevices];  // 0: not read yet, 1: absent, 2: present
    const bool cached = device >= 0 && device < kDevices;
    if (cached && known[device].load(std::memory_order_relaxed) != 0) {
        *present = known[device].load(std::memory_order_relaxed) == 2;
        return MOE_STATUS_OK;
    }
    if (const int32_t st = select_device(device); st != MOE_STATUS_OK) return st;
    int cc = 0;
    if (const int32_t st = compute_capability(device, &cc); st != MOE_STATUS_OK) return st;
    int32_t flag = 0;
    // Only an sm_90 device can load the sm_90a image; elsewhere the flag is 0 without asking.
    if (cc == 90)
        if (const int32_t st = read_image_flag(&flag); st != MOE_STATUS_OK) return st;
    *present = flag == 1;
    if (cached) known[device].store(*present ? 2 : 1, std::memory_order_relaxed);
    return MOE_STATUS_OK;
}

int32_t require_wgmma(int32_t device) {
    if (const int32_t st = select_device(device); st != MOE_STATUS_OK) return st;
    if (const int32_t st = require_hopper(device); st != MOE_STATUS_OK) return st;
    bool present = false;
    if (const int32_t st = wgmma_image_present(device, &present); st != MOE_STATUS_OK) return st;
    return present ? MOE_STATUS_OK : MOE_STATUS_UNSUPPORTED_GPU;
}

}  // namespace cuda
}  // namespace moe
