// Small CUDA runtime helpers of the C ABI (moe.h): device memory, copies, streams, the last error.
// Each call selects its device first, so a Java thread may hop between devices without state of its own.
#include <cuda_runtime.h>

#include <cstring>

#include "cuda_status.cuh"
#include "moe/moe.h"

namespace moe {
namespace cuda {
namespace {

thread_local cudaError_t last_error = cudaSuccess;

bool is_no_gpu(cudaError_t e) {
    switch (e) {
        case cudaErrorInsufficientDriver:
        case cudaErrorNoDevice:
        case cudaErrorInvalidDevice:
        case cudaErrorStubLibrary:
        case cudaErrorDevicesUnavailable:
        case cudaErrorSystemDriverMismatch:
        case cudaErrorCompatNotSupportedOnDevice:
            return true;
        default:
            return false;
    }
}

}  // namespace

int32_t fail(cudaError_t e) {
    if (e == cudaSuccess) return MOE_STATUS_OK;
    last_error = e;
    (void)cudaGetLastError();  // clear the runtime's (non-sticky) last error; ours keeps the code
    if (is_no_gpu(e)) return MOE_STATUS_NO_GPU;
    if (e == cudaErrorMemoryAllocation) return MOE_STATUS_OUT_OF_MEMORY;
    return MOE_STATUS_CUDA_ERROR;
}

int32_t select_device(int32_t device) {
    if (device < 0) return fail(cudaErrorInvalidDevice);
    return fail(cudaSetDevice(device));
}

}  // namespace cuda
}  // namespace moe

using moe::cuda::fail;
using moe::cuda::select_device;

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_cuda_malloc(int32_t device, int64_t bytes, void** ptr) {
    if (ptr == nullptr) return MOE_STATUS_NULL_POINTER;
    *ptr = nullptr;
    if (bytes < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (bytes == 0) return MOE_STATUS_OK;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    void* p = nullptr;
    if (const int32_t s = fail(cudaMalloc(&p, static_cast<size_t>(bytes))); s != MOE_STATUS_OK) return s;
    *ptr = p;
    return MOE_STATUS_OK;
}

int32_t moe_cuda_free(int32_t device, void* ptr) {
    if (ptr == nullptr) return MOE_STATUS_OK;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaFree(ptr));
}

int32_t moe_cuda_memcpy(int32_t device, void* stream, void* dst, const void* src, int64_t bytes, int32_t kind) {
    cudaMemcpyKind k;
    switch (kind) {
        case MOE_CUDA_H2D: k = cudaMemcpyHostToDevice; break;
        case MOE_CUDA_D2H: k = cudaMemcpyDeviceToHost; break;
        case MOE_CUDA_D2D: k = cudaMemcpyDeviceToDevice; break;
        default: return MOE_STATUS_INVALID_CONFIG;
    }
    if (bytes < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (bytes == 0) return MOE_STATUS_OK;
    if (dst == nullptr || src == nullptr) return MOE_STATUS_NULL_POINTER;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), k, static_cast<cudaStream_t>(stream)));
}

int32_t moe_cuda_memset(int32_t device, void* stream, void* ptr, int32_t value, int64_t bytes) {
    if (bytes < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (bytes == 0) return MOE_STATUS_OK;
    if (ptr == nullptr) return MOE_STATUS_NULL_POINTER;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaMemsetAsync(ptr, value, static_cast<size_t>(bytes), static_cast<cudaStream_t>(stream)));
}

int32_t moe_cuda_stream_create(int32_t device, void** stream) {
    if (stream == nullptr) return MOE_STATUS_NULL_POINTER;
    *stream = nullptr;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    cudaStream_t st = nullptr;
    if (const int32_t s = fail(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking)); s != MOE_STATUS_OK) return s;
    *stream = st;
    return MOE_STATUS_OK;
}

int32_t moe_cuda_stream_destroy(int32_t device, void* stream) {
    if (stream == nullptr) return MOE_STATUS_OK;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaStreamDestroy(static_cast<cudaStream_t>(stream)));
}

int32_t moe_cuda_stream_synchronize(int32_t device, void* stream) {
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

// Graphs: thread-local capture mode, so other threads' unrelated CUDA calls (e.g. a cudaMalloc) neither
// fail nor break this capture.
int32_t moe_cuda_graph_capture_begin(int32_t device, void* stream) {
    if (stream == nullptr) return MOE_STATUS_NULL_POINTER;  // the legacy default stream cannot be captured
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeThreadLocal));
}

int32_t moe_cuda_graph_capture_end(int32_t device, void* stream, void** graph_exec) {
    if (stream == nullptr || graph_exec == nullptr) return MOE_STATUS_NULL_POINTER;
    *graph_exec = nullptr;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    cudaGraph_t graph = nullptr;
    if (const int32_t s = fail(cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &graph)); s != MOE_STATUS_OK) {
        if (graph != nullptr) cudaGraphDestroy(graph);
        return s;
    }
    cudaGraphExec_t exec = nullptr;
    const int32_t s = fail(cudaGraphInstantiate(&exec, graph, 0));
    cudaGraphDestroy(graph);  // the executable graph keeps what it needs
    if (s != MOE_STATUS_OK) return s;
    *graph_exec = exec;
    return MOE_STATUS_OK;
}

int32_t moe_cuda_graph_launch(int32_t device, void* stream, void* graph_exec) {
    if (graph_exec == nullptr) return MOE_STATUS_NULL_POINTER;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph_exec), static_cast<cudaStream_t>(stream)));
}

int32_t moe_cuda_graph_destroy(int32_t device, void* graph_exec) {
    if (graph_exec == nullptr) return MOE_STATUS_OK;
    if (const int32_t s = select_device(device); s != MOE_STATUS_OK) return s;
    return fail(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph_exec)));
}

int32_t moe_cuda_last_error(char* message, int64_t capacity) {
    cudaError_t e = moe::cuda::last_error;
    moe::cuda::last_error = cudaSuccess;
    const cudaError_t runtime = cudaGetLastError();
    if (e == cudaSuccess) e = runtime;
    if (message != nullptr && capacity > 0) {
        const size_t cap = static_cast<size_t>(capacity);
        std::strncpy(message, cudaGetErrorString(e), cap - 1);
        message[cap - 1] = '\0';
    }
    return static_cast<int32_t>(e);
}

}  // extern "C"
#pragma GCC visibility pop
