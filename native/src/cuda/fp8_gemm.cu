// FP8 block-scaled GEMM on CUDA (moe_fp8_gemm_cuda, moe_fp8_grouped_gemm_contiguous_cuda in moe.h): one
// 64x64 output tile per block, the phases of shared/fp8_gemm_tile.cuh separated by barriers (the host
// runs the same phases in moe_fp8_gemm_cuda_host), results bit-identical to the Java reference.
// CUDA cores with an E4M3 decode table in shared memory: a correct, portable (sm_80+) baseline; the
// mma.sync tensor-core kernels are below, Hopper's wgmma kernel in fp8_gemm_wgmma.cu (TMA: next step).
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_groups.cuh"
#include "../shared/fp8_gemm_mma.cuh"
#include "../shared/fp8_gemm_tile.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

namespace g = moe::fp8gemm;

__global__ void __launch_bounds__(g::kThreads) gemm_kernel(g::Problem p) {
    g::run_tile(p, static_cast<int64_t>(blockIdx.y) * g::kBm, static_cast<int64_t>(blockIdx.x) * g::kBn);
}

// blockIdx.y walks the row tiles of all experts of the launch; each block finds its expert.
__global__ void __launch_bounds__(g::kThreads) grouped_kernel(g::Problem base, g::Groups groups, int64_t b_stride,
                                                              int64_t sb_stride) {
    g::Problem p;
    int64_t row0;
    g::contiguous_tile(base, groups, b_stride, sb_stride, blockIdx.y, &p, &row0);
    g::run_tile(p, row0, static_cast<int64_t>(blockIdx.x) * g::kBn);
}

int64_t tiles(int64_t v, int64_t t) { return (v + t - 1) / t; }

namespace mm = moe::fp8mma;

__global__ void __launch_bounds__(mm::kThreads) gemm_mma_kernel(g::Problem p) {
    mm::run_tile_mma(p, static_cast<int64_t>(blockIdx.y) * mm::kBm, static_cast<int64_t>(blockIdx.x) * mm::kBn);
}

__global__ void __launch_bounds__(mm::kThreads) grouped_mma_kernel(g::Problem base, g::Groups groups, int64_t b_stride,
                                                                   int64_t sb_stride) {
    g::Problem p;
    int64_t row0;
    g::contiguous_tile(base, groups, b_stride, sb_stride, blockIdx.y, &p, &row0);
    mm::run_tile_mma(p, row0, static_cast<int64_t>(blockIdx.x) * mm::kBn);
}

// Masked layout: blockIdx.y walks E * ceil(max_m / 64) row tiles; counts are read on the device, so the
// launch needs nothing from the host but the shapes (CUDA graphs, decode).
template <bool TC>
__global__ void __launch_bounds__(TC ? mm::kThreads : g::kThreads) masked_kernel(g::Problem base, int64_t max_m,
                                                                               const int32_t* counts) {
    g::Problem p;
    int64_t row0, zero_from, zero_to;
    g::masked_tile(base, max_m, counts, blockIdx.y, &p, &row0, &zero_from, &zero_to);
    const int64_t col0 = static_cast<int64_t>(blockIdx.x) * g::kBn;
    if (row0 < p.m) {
        if constexpr (TC) {
            mm::run_tile_mma(p, row0, col0);
        } else {
            g::run_tile(p, row0, col0);
        }
    }
    g::zero_rows(p, zero_from, zero_to, col0, g::kBn, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x));
}

int32_t masked_impl(bool tc, int32_t device, void* stream, int64_t num_groups, int64_t max_m, const int32_t* counts,
                    int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count, const float* a_scales,
                    int64_t a_scales_count, const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                    float* c, int64_t c_count) {
    const int32_t s = g::check_masked(num_groups, max_m, counts, counts_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                      b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (num_groups == 0 || max_m == 0 || n == 0) return MOE_STATUS_OK;
    const int64_t row_tiles = num_groups * tiles(max_m, g::kBm);
    if (row_tiles > 65535 || tiles(n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (tc)
        if (const int32_t st = moe::cuda::require_tensor_cores(device); st != MOE_STATUS_OK) return st;
    const dim3 grid(static_cast<unsigned>(tiles(n, g::kBn)), static_cast<unsigned>(row_tiles));
    const g::Problem base{0, n, k, a, a_scales, b, b_scales, c};
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    if (tc) {
        masked_kernel<true><<<grid, mm::kThreads, 0, st>>>(base, max_m, counts);
    } else {
        masked_kernel<false><<<grid, g::kThreads, 0, st>>>(base, max_m, counts);
    }
    return moe::cuda::fail(cudaGetLastError());
}

// Dense and grouped launches shared by the exact (CUDA-core) and tensor-core entry points.
int32_t gemm_impl(bool tc, int32_t device, void* stream, int64_t m, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                  const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count, const float* b_scales,
                  int64_t b_scales_count, float* c, int64_t c_count) {
    const int32_t s = g::check_counts(m, n, k, 1, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                                      b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (m == 0 || n == 0) return MOE_STATUS_OK;
    if (tiles(m, g::kBm) > 65535 || tiles(n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (tc)
        if (const int32_t st = moe::cuda::require_tensor_cores(device); st != MOE_STATUS_OK) return st;
    const dim3 grid(static_cast<unsigned>(tiles(n, g::kBn)), static_cast<unsigned>(tiles(m, g::kBm)));
    const g::Problem p{m, n, k, a, a_scales, b, b_scales, c};
    if (tc) {
        gemm_mma_kernel<<<grid, mm::kThreads, 0, static_cast<cudaStream_t>(stream)>>>(p);
    } else {
        gemm_kernel<<<grid, g::kThreads, 0, static_cast<cudaStream_t>(stream)>>>(p);
    }
    return moe::cuda::fail(cudaGetLastError());
}

int32_t grouped_impl(bool tc, int32_t device, void* stream, int64_t num_groups, const int64_t* offsets, int64_t offsets_count,
                     int64_t n, int64_t k, const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                     const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count, float* c,
                     int64_t c_count) {
    const int32_t s = g::check_contiguous(num_groups, offsets, offsets_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                          b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (offsets[num_groups] == 0 || n == 0) return MOE_STATUS_OK;
    if (tiles(n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (tc)
        if (const int32_t st = moe::cuda::require_tensor_cores(device); st != MOE_STATUS_OK) return st;
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    return g::for_each_launch(num_groups, offsets, n, k, a, a_scales, b, b_scales, c,
                              [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                  int64_t row_tiles) {
                                  if (row_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
                                  const dim3 grid(static_cast<unsigned>(tiles(n, g::kBn)), static_cast<unsigned>(row_tiles));
                                  if (tc) {
                                      grouped_mma_kernel<<<grid, mm::kThreads, 0, st>>>(base, groups, b_stride, sb_stride);
                                  } else {
                                      grouped_kernel<<<grid, g::kThreads, 0, st>>>(base, groups, b_stride, sb_stride);
                                  }
                                  return moe::cuda::fail(cudaGetLastError());
                              });
}

static_assert(mm::kBm == g::kBm && mm::kBn == g::kBn, "both kernels tile 64 x 64, so the launch geometry is shared");

}  // namespace

namespace moe {
namespace cuda {

int32_t compute_capability(int32_t device, int* cc) {
    int major = 0;
    int minor = 0;
    if (const int32_t s = fail(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device)); s != MOE_STATUS_OK)
        return s;
    if (const int32_t s = fail(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device)); s != MOE_STATUS_OK)
        return s;
    *cc = major * 10 + minor;
    return MOE_STATUS_OK;
}

int32_t require_tensor_cores(int32_t device) {
    int cc = 0;
    if (const int32_t s = compute_capability(device, &cc); s != MOE_STATUS_OK) return s;
    return cc >= 80 ? MOE_STATUS_OK : MOE_STATUS_UNSUPPORTED_GPU;
}

}  // namespace cuda
}  // namespace moe

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_gemm_cuda(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                          const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                          const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                          float* c, int64_t c_count) {
    return gemm_impl(false, device, stream, m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                     b_scales_count, c, c_count);
}

int32_t moe_fp8_grouped_gemm_contiguous_cuda(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                             int64_t offsets_count, int64_t n, int64_t k,
                                             const uint8_t* a, int64_t a_count, const float* a_scales,
                                             int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                             const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    return grouped_impl(false, device, stream, num_groups, offsets, offsets_count, n, k, a, a_count, a_scales, a_scales_count,
                        b, b_count, b_scales, b_scales_count, c, c_count);
}

int32_t moe_fp8_gemm_cuda_tc(int32_t device, void* stream, int64_t m, int64_t n, int64_t k,
                             const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                             const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                             float* c, int64_t c_count) {
    return gemm_impl(true, device, stream, m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                     b_scales_count, c, c_count);
}

int32_t moe_fp8_grouped_gemm_contiguous_cuda_tc(int32_t device, void* stream, int64_t num_groups, const int64_t* offsets,
                                                int64_t offsets_count, int64_t n, int64_t k,
                                                const uint8_t* a, int64_t a_count, const float* a_scales,
                                                int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                                const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    return grouped_impl(true, device, stream, num_groups, offsets, offsets_count, n, k, a, a_count, a_scales, a_scales_count,
                        b, b_count, b_scales, b_scales_count, c, c_count);
}

int32_t moe_fp8_grouped_gemm_masked_cuda(int32_t device, void* stream, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                         int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                         const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                         const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    return masked_impl(false, device, stream, num_groups, max_m, counts, counts_count, n, k, a, a_count, a_scales, a_scales_count,
                       b, b_count, b_scales, b_scales_count, c, c_count);
}

int32_t moe_fp8_grouped_gemm_masked_cuda_tc(int32_t device, void* stream, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                            int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                            const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                            const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    return masked_impl(true, device, stream, num_groups, max_m, counts, counts_count, n, k, a, a_count, a_scales, a_scales_count,
                       b, b_count, b_scales, b_scales_count, c, c_count);
}

}  // extern "C"
#pragma GCC visibility pop
