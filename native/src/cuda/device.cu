// CUDA device discovery: lets backend `auto` decide and `./moe version` explain why CUDA is unusable.
// A missing driver shows up as cudaErrorInsufficientDriver (35); no device as cudaErrorNoDevice (100).
#include <cuda_runtime.h>

#include <cstring>

#include "cuda_status.cuh"
#include "moe/moe.h"

namespace moe {
namespace cuda {

void versions(int32_t* driver, int32_t* runtime) {
    int d = 0;
    int r = 0;
    if (cudaDriverGetVersion(&d) != cudaSuccess) d = 0;
    if (cudaRuntimeGetVersion(&r) != cudaSuccess) r = 0;
    (void)cudaGetLastError();
    *driver = d;
    *runtime = r;
}

}  // namespace cuda
}  // namespace moe

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_cuda_abi_version(void) { return MOE_ABI_VERSION; }

int32_t moe_cuda_device_count(int32_t* count, int32_t* cuda_error) {
    if (count == nullptr) return MOE_STATUS_NULL_POINTER;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (cuda_error != nullptr) *cuda_error = static_cast<int32_t>(e);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky error state
        *count = 0;
        return MOE_STATUS_NO_GPU;
    }
    *count = n;
    return n > 0 ? MOE_STATUS_OK : MOE_STATUS_NO_GPU;
}

int32_t moe_cuda_device_name(int32_t device, char* name, int64_t name_capacity) {
    if (name == nullptr) return MOE_STATUS_NULL_POINTER;
    if (name_capacity < 1) return MOE_STATUS_BAD_BUFFER_SIZE;
    cudaDeviceProp prop;
    const cudaError_t e = cudaGetDeviceProperties(&prop, device);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        name[0] = '\0';
        return MOE_STATUS_CUDA_ERROR;
    }
    const size_t cap = static_cast<size_t>(name_capacity);
    std::strncpy(name, prop.name, cap - 1);
    name[cap - 1] = '\0';
    return MOE_STATUS_OK;
}

int32_t moe_cuda_device_capability(int32_t device, int32_t* major, int32_t* minor) {
    if (major == nullptr || minor == nullptr) return MOE_STATUS_NULL_POINTER;
    *major = 0;
    *minor = 0;
    int cc = 0;
    if (const int32_t s = moe::cuda::compute_capability(device, &cc); s != MOE_STATUS_OK) return s;
    *major = cc / 10;
    *minor = cc % 10;
    return MOE_STATUS_OK;
}

const char* moe_cuda_error_string(int32_t cuda_error) {
    return cudaGetErrorString(static_cast<cudaError_t>(cuda_error));
}

}  // extern "C"
#pragma GCC visibility pop
