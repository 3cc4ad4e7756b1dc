// CUDA device discovery (moe_cuda_device_query): lets backend `auto` decide and `./moe version` explain
// why CUDA is unusable (including a driver older than the runtime linked in). A missing driver shows up as cudaErrorInsufficientDriver (35); no device as
// cudaErrorNoDevice (100).
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <string>

#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

// Device names, kept for the life of the process so that moe_cuda_device_info.name stays valid.
const char* device_name(int32_t device, const char* name) {
    static std::mutex lock;
    static std::map<int32_t, std::string> names;
    const std::lock_guard<std::mutex> guard(lock);
    const auto it = names.find(device);
    if (it != names.end()) return it->second.c_str();
    return names.emplace(device, name).first->second.c_str();
}

}  // namespace

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

int32_t moe_cuda_device_query(int32_t device, moe_cuda_device_info* info) {
    if (info == nullptr) return MOE_STATUS_NULL_POINTER;
    *info = moe_cuda_device_info{0, 0, 0, 0, 0, 0, 0, 0, ""};
    // First, so that a caller told MOE_STATUS_NO_GPU can say whether the driver is too old.
    moe::cuda::versions(&info->driver_version, &info->runtime_version);
    int count = 0;
    if (const int32_t s = moe::cuda::fail(cudaGetDeviceCount(&count)); s != MOE_STATUS_OK) return MOE_STATUS_NO_GPU;
    info->device_count = count;
    if (device < 0 || device >= count) return moe::cuda::fail(count == 0 ? cudaErrorNoDevice : cudaErrorInvalidDevice);
    cudaDeviceProp prop;
    if (const int32_t s = moe::cuda::fail(cudaGetDeviceProperties(&prop, device)); s != MOE_STATUS_OK) return s;
    info->major = prop.major;
    info->minor = prop.minor;
    info->multiprocessors = prop.multiProcessorCount;
    info->name = device_name(device, prop.name);
    // Reading the image flag selects the device: the caller's current device is restored. A flag that
    // cannot be read counts as absent (the wgmma kernels then refuse to run) and fails nothing here.
    int current = 0;
    const bool restore = cudaGetDevice(&current) == cudaSuccess;
    bool wgmma = false;
    if (moe::cuda::wgmma_image_present(device, &wgmma) != MOE_STATUS_OK) {
        wgmma = false;
        moe_cuda_last_error(nullptr, 0);
    }
    if (restore) cudaSetDevice(current);
    (void)cudaGetLastError();
    info->has_wgmma_image = wgmma ? 1 : 0;
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
