// FP8 block-scaled GEMM on CUDA (moe_fp8_gemm_cuda, moe_fp8_grouped_gemm_contiguous_cuda in moe.h): one
// 64x64 output tile per block, the phases of shared/fp8_gemm_tile.cuh separated by barriers (the host
// runs the same phases in moe_fp8_gemm_cuda_host), results bit-identical to the Java reference.
// CUDA cores with an E4M3 decode table in shared memory: a correct, portable (sm_80+) baseline; the
// mma.sync tensor-core kernels are below, Hopper's wgmma kernel in fp8_gemm_wgmma.cu (TMA: next step).
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_mma.cuh"
#include "../shared/fp8_gemm_tile.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

namespace g = moe::fp8gemm;

// Up to this many experts per launch (their row offsets travel as a kernel parameter).
constexpr int kMaxGroupsPerLaunch = 256;

struct Groups {
    int32_t count;                               // experts in this launch
    int64_t row_tiles[kMaxGroupsPerLaunch + 1];  // prefix sums of each expert's 64-row tiles
    int64_t rows[kMaxGroupsPerLaunch + 1];       // first row of each expert (relative to the launch's A)
};

__global__ void __launch_bounds__(g::kThreads) gemm_kernel(g::Problem p) {
    g::run_tile(p, static_cast<int64_t>(blockIdx.y) * g::kBm, static_cast<int64_t>(blockIdx.x) * g::kBn);
}

// blockIdx.y walks the row tiles of all experts of the launch; each block finds its expert.
__global__ void __launch_bounds__(g::kThreads) grouped_kernel(g::Problem base, Groups groups, int64_t b_stride,
                                                              int64_t sb_stride) {
    const int64_t tile = blockIdx.y;
    int e = 0;
    while (e + 1 < groups.count && groups.row_tiles[e + 1] <= tile) ++e;
    const int64_t r0 = groups.rows[e];
    const int64_t kc = g::chunks(base.k);
    g::Problem p{groups.rows[e + 1] - r0, base.n, base.k, base.a + r0 * base.k, base.sa + r0 * kc,
                 base.b + e * b_stride, base.sb + e * sb_stride, base.c + r0 * base.n};
    g::run_tile(p, (tile - groups.row_tiles[e]) * g::kBm, static_cast<int64_t>(blockIdx.x) * g::kBn);
}

int64_t tiles(int64_t v, int64_t t) { return (v + t - 1) / t; }

namespace mm = moe::fp8mma;

__global__ void __launch_bounds__(mm::kThreads) gemm_mma_kernel(g::Problem p) {
    mm::run_tile_mma(p, static_cast<int64_t>(blockIdx.y) * mm::kBm, static_cast<int64_t>(blockIdx.x) * mm::kBn);
}

__global__ void __launch_bounds__(mm::kThreads) grouped_mma_kernel(g::Problem base, Groups groups, int64_t b_stride,
                                                                  int64_t sb_stride) {
    const int64_t tile = blockIdx.y;
    int e = 0;
    while (e + 1 < groups.count && groups.row_tiles[e + 1] <= tile) ++e;
    const int64_t r0 = groups.rows[e];
    const int64_t kc = g::chunks(base.k);
    g::Problem p{groups.rows[e + 1] - r0, base.n, base.k, base.a + r0 * base.k, base.sa + r0 * kc,
                 base.b + e * b_stride, base.sb + e * sb_stride, base.c + r0 * base.n};
    mm::run_tile_mma(p, (tile - groups.row_tiles[e]) * mm::kBm, static_cast<int64_t>(blockIdx.x) * mm::kBn);
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
    g::zero_rows(p, zero_from, zero_to, col0, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x));
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
    if (num_groups < 0 || offsets_count != num_groups + 1) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (offsets == nullptr) return MOE_STATUS_NULL_POINTER;
    if (offsets[0] != 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    for (int64_t e = 0; e < num_groups; ++e)
        if (offsets[e + 1] < offsets[e]) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t rows = offsets[num_groups];
    const int32_t s = g::check_counts(rows, n, k, num_groups, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                                      b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (rows == 0 || n == 0) return MOE_STATUS_OK;
    if (tiles(n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (tc)
        if (const int32_t st = moe::cuda::require_tensor_cores(device); st != MOE_STATUS_OK) return st;
    const int64_t kc = g::chunks(k);
    const int64_t b_stride = n * k;
    const int64_t sb_stride = g::chunks(n) * kc;
    for (int64_t first = 0; first < num_groups; first += kMaxGroupsPerLaunch) {
        Groups groups{};
        groups.count = static_cast<int32_t>(num_groups - first < kMaxGroupsPerLaunch ? num_groups - first : kMaxGroupsPerLaunch);
        const int64_t base_row = offsets[first];
        for (int e = 0; e < groups.count; ++e) {
            groups.rows[e] = offsets[first + e] - base_row;
            groups.row_tiles[e + 1] = groups.row_tiles[e] + tiles(offsets[first + e + 1] - offsets[first + e], g::kBm);
        }
        groups.rows[groups.count] = offsets[first + groups.count] - base_row;
        const int64_t row_tiles = groups.row_tiles[groups.count];
        if (row_tiles == 0) continue;
        if (row_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
        const g::Problem base{0, n, k, a + base_row * k, a_scales + base_row * kc, b + first * b_stride,
                              b_scales + first * sb_stride, c + base_row * n};
        const dim3 grid(static_cast<unsigned>(tiles(n, g::kBn)), static_cast<unsigned>(row_tiles));
        const cudaStream_t st = static_cast<cudaStream_t>(stream);
        if (tc) {
            grouped_mma_kernel<<<grid, mm::kThreads, 0, st>>>(base, groups, b_stride, sb_stride);
        } else {
            grouped_kernel<<<grid, g::kThreads, 0, st>>>(base, groups, b_stride, sb_stride);
        }
        if (const int32_t e = moe::cuda::fail(cudaGetLastError()); e != MOE_STATUS_OK) return e;
    }
    return MOE_STATUS_OK;
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
