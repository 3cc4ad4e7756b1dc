// moe_fp8_gemm_cuda_wgmma (moe.h): the dense FP8 block-scaled GEMM on Hopper's warpgroup tensor-core
// instruction, one 64x128 output tile per block of one warpgroup, the phases of shared/fp8_gemm_wgmma.cuh
// (the host runs the same phases in moe_fp8_gemm_cuda_wgmma_host). Operands are staged by the threads
// with plain loads (no TMA yet) and one chunk in flight (no pipelining yet): correctness first.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_groups.cuh"
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

// The 1024-byte aligned start of the block's dynamic shared memory.
__device__ __forceinline__ uint8_t* aligned_smem(uint8_t* raw) {
    const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(raw));
    return raw + ((wg::kSmemAlign - addr % wg::kSmemAlign) % wg::kSmemAlign);
}

// Grouped contiguous: blockIdx.y walks the launch's row tiles (64 rows, as for every kernel).
__global__ void __launch_bounds__(wg::kThreads) grouped_wgmma_kernel(g::Problem base, g::Groups groups, int64_t b_stride,
                                                                     int64_t sb_stride) {
    extern __shared__ uint8_t smem_raw[];
    g::Problem p;
    int64_t row0;
    g::contiguous_tile(base, groups, b_stride, sb_stride, blockIdx.y, &p, &row0);
    wg::run_tile_wgmma(p, row0, static_cast<int64_t>(blockIdx.x) * wg::kBn, aligned_smem(smem_raw));
}

// Masked: counts read on the device; rows past a count zeroed.
__global__ void __launch_bounds__(wg::kThreads) masked_wgmma_kernel(g::Problem base, int64_t max_m, const int32_t* counts) {
    extern __shared__ uint8_t smem_raw[];
    g::Problem p;
    int64_t row0, zero_from, zero_to;
    g::masked_tile(base, max_m, counts, blockIdx.y, &p, &row0, &zero_from, &zero_to);
    const int64_t col0 = static_cast<int64_t>(blockIdx.x) * wg::kBn;
    if (row0 < p.m) wg::run_tile_wgmma(p, row0, col0, aligned_smem(smem_raw));  // uniform per block: barriers are safe
    g::zero_rows(p, zero_from, zero_to, col0, wg::kBn, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x));
}

int64_t tiles(int64_t v, int64_t t) { return (v + t - 1) / t; }

}  // namespace

using moe::cuda::require_wgmma;

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
    if (const int32_t st = require_wgmma(device); st != MOE_STATUS_OK) return st;
    const dim3 grid(static_cast<unsigned>(tiles(n, wg::kBn)), static_cast<unsigned>(tiles(m, wg::kBm)));
    const g::Problem p{m, n, k, a, a_scales, b, b_scales, c};
    gemm_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, static_cast<cudaStream_t>(stream)>>>(p);
    return moe::cuda::fail(cudaGetLastError());
}

int32_t moe_fp8_grouped_gemm_contiguous_cuda_wgmma(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                                   int64_t offsets_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                                   const float* a_scales, int64_t a_scales_count, const uint8_t* b,
                                                   int64_t b_count, const float* b_scales, int64_t b_scales_count, float* c,
                                                   int64_t c_count) {
    const int32_t s = g::check_contiguous(num_groups, offsets, offsets_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                          b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (offsets[num_groups] == 0 || n == 0) return MOE_STATUS_OK;
    if (tiles(n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = require_wgmma(device); st != MOE_STATUS_OK) return st;
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    return g::for_each_launch(num_groups, offsets, n, k, a, a_scales, b, b_scales, c,
                              [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                  int64_t row_tiles) {
                                  if (row_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
                                  const dim3 grid(static_cast<unsigned>(tiles(n, wg::kBn)), static_cast<unsigned>(row_tiles));
                                  grouped_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, st>>>(base, groups, b_stride, sb_stride);
                                  return moe::cuda::fail(cudaGetLastError());
                              });
}

int32_t moe_fp8_grouped_gemm_masked_cuda_wgmma(int32_t device, void* stream, int64_t num_groups, int64_t max_m,
                                               const int32_t* counts, int64_t counts_count, int64_t n, int64_t k,
                                               const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                               const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                               float* c, int64_t c_count) {
    const int32_t s = g::check_masked(num_groups, max_m, counts, counts_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                      b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (num_groups == 0 || max_m == 0 || n == 0) return MOE_STATUS_OK;
    const int64_t row_tiles = num_groups * tiles(max_m, g::kBm);
    if (row_tiles > 65535 || tiles(n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = require_wgmma(device); st != MOE_STATUS_OK) return st;
    const dim3 grid(static_cast<unsigned>(tiles(n, wg::kBn)), static_cast<unsigned>(row_tiles));
    const g::Problem base{0, n, k, a, a_scales, b, b_scales, c};
    masked_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, static_cast<cudaStream_t>(stream)>>>(base, max_m, counts);
    return moe::cuda::fail(cudaGetLastError());
}

}  // extern "C"
#pragma GCC visibility pop
