// moe_fp8_gemm_cuda_wgmma (moe.h): the dense FP8 block-scaled GEMM on Hopper's warpgroup tensor-core
// instruction, one 64x128 output tile per block of one warpgroup, the phases of shared/fp8_gemm_wgmma.cuh
// (the host runs the same phases in moe_fp8_gemm_cuda_wgmma_host). Operands are staged by the threads
// with plain loads (no TMA yet) and one chunk in flight (no pipelining yet): correctness first.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_wgmma.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

namespace g = moe::fp8gemm;
namespace wg = moe::fp8wgmma;

// Dynamic shared memory: the operand tiles plus slack to start them on a 1024-byte boundary (the 128B
// swizzle is a function of the shared-memory address; static __shared__ alignment is not relied on).
constexpr uint32_t kDynamicSmem = wg::kSmemBytes + wg::kSmemAlign;

__global__ void __launch_bounds__(wg::kThreads) gemm_wgmma_kernel(g::Problem p) {
    extern __shared__ uint8_t smem_raw[];
    const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_raw));
    uint8_t* smem = smem_raw + ((wg::kSmemAlign - addr % wg::kSmemAlign) % wg::kSmemAlign);
    wg::run_tile_wgmma(p, static_cast<int64_t>(blockIdx.y) * wg::kBm, static_cast<int64_t>(blockIdx.x) * wg::kBn, smem);
}

int64_t tiles(int64_t v, int64_t t) { return (v + t - 1) / t; }

// MOE_STATUS_OK when the kernel was built as sm_90a code, which is what this device will load: a library
// built without 90a would JIT older PTX, whose kernel body is __trap().
int32_t require_wgmma_binary() {
    cudaFuncAttributes attr{};
    if (const int32_t s = moe::cuda::fail(cudaFuncGetAttributes(&attr, gemm_wgmma_kernel)); s != MOE_STATUS_OK) return s;
    return attr.binaryVersion == 90 && attr.ptxVersion >= 90 ? MOE_STATUS_OK : MOE_STATUS_UNSUPPORTED_GPU;
}

}  // namespace

namespace moe {
namespace cuda {

int32_t require_hopper(int32_t device) {
    int cc = 0;
    if (const int32_t s = compute_capability(device, &cc); s != MOE_STATUS_OK) return s;
    return cc == 90 ? MOE_STATUS_OK : MOE_STATUS_UNSUPPORTED_GPU;
}

}  // namespace cuda
}  // namespace moe

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_gemm_cuda_wgmma(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                                const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                float* c, int64_t c_count) {
    const int32_t s = g::check_counts(m, n, k, 1, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                                      b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (m == 0 || n == 0) return MOE_STATUS_OK;
    if (tiles(m, wg::kBm) > 65535 || tiles(n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (const int32_t st = moe::cuda::require_hopper(device); st != MOE_STATUS_OK) return st;
    if (const int32_t st = require_wgmma_binary(); st != MOE_STATUS_OK) return st;
    const dim3 grid(static_cast<unsigned>(tiles(n, wg::kBn)), static_cast<unsigned>(tiles(m, wg::kBm)));
    const g::Problem p{m, n, k, a, a_scales, b, b_scales, c};
    gemm_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, static_cast<cudaStream_t>(stream)>>>(p);
    return moe::cuda::fail(cudaGetLastError());
}

}  // extern "C"
#pragma GCC visibility pop
