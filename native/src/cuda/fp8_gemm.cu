// moe_fp8_gemm_cuda (moe.h): the call's checks and the dispatch on its kernel kind, and the two kernels
// with one 64x64 output tile per block: EXACT, the phases of shared/fp8_gemm_tile.cuh on the CUDA cores
// with an E4M3 decode table in shared memory (bit-identical to the Java reference, any GPU), and MMA,
// those of shared/fp8_gemm_mma.cuh on mma.sync tensor cores. Hopper's wgmma kernels are
// fp8_gemm_wgmma.cu and fp8_gemm_wgmma_tma.cu; the testkit's host twin runs all their block code.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_groups.cuh"
#include "../shared/fp8_gemm_mma.cuh"
#include "../shared/fp8_gemm_tile.cuh"
#include "cuda_status.cuh"
#include "fp8_gemm_launch.cuh"
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

// The masked layout: counts read on the device, rows past a count zeroed.
int32_t masked(const g::Call& c, bool tc, cudaStream_t st) {
    if (c.groups == 0 || c.max_m == 0 || c.n == 0) return MOE_STATUS_OK;
    const int64_t row_tiles = c.groups * tiles(c.max_m, g::kBm);
    if (row_tiles > 65535 || tiles(c.n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t s = moe::cuda::select_device(c.device); s != MOE_STATUS_OK) return s;
    if (tc)
        if (const int32_t s = moe::cuda::require_tensor_cores(c.device); s != MOE_STATUS_OK) return s;
    const dim3 grid(static_cast<unsigned>(tiles(c.n, g::kBn)), static_cast<unsigned>(row_tiles));
    const g::Problem base{0, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
    if (tc) {
        masked_kernel<true><<<grid, mm::kThreads, 0, st>>>(base, c.max_m, c.counts);
    } else {
        masked_kernel<false><<<grid, g::kThreads, 0, st>>>(base, c.max_m, c.counts);
    }
    return moe::cuda::fail(cudaGetLastError());
}

int32_t dense(const g::Call& c, bool tc, cudaStream_t st) {
    if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
    if (tiles(c.m, g::kBm) > 65535 || tiles(c.n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t s = moe::cuda::select_device(c.device); s != MOE_STATUS_OK) return s;
    if (tc)
        if (const int32_t s = moe::cuda::require_tensor_cores(c.device); s != MOE_STATUS_OK) return s;
    const dim3 grid(static_cast<unsigned>(tiles(c.n, g::kBn)), static_cast<unsigned>(tiles(c.m, g::kBm)));
    const g::Problem p{c.m, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
    if (tc) {
        gemm_mma_kernel<<<grid, mm::kThreads, 0, st>>>(p);
    } else {
        gemm_kernel<<<grid, g::kThreads, 0, st>>>(p);
    }
    return moe::cuda::fail(cudaGetLastError());
}

// The contiguous layout: launches of up to kMaxGroupsPerLaunch experts (offsets are host memory).
int32_t contiguous(const g::Call& c, bool tc, cudaStream_t st) {
    if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
    if (tiles(c.n, g::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (const int32_t s = moe::cuda::select_device(c.device); s != MOE_STATUS_OK) return s;
    if (tc)
        if (const int32_t s = moe::cuda::require_tensor_cores(c.device); s != MOE_STATUS_OK) return s;
    return g::for_each_launch(c.groups, c.offsets, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c,
                              [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                  int64_t row_tiles) {
                                  if (row_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
                                  const dim3 grid(static_cast<unsigned>(tiles(c.n, g::kBn)), static_cast<unsigned>(row_tiles));
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

int32_t gemm_cuda_cores(const g::Call& c, bool tensor_cores) {
    const cudaStream_t st = static_cast<cudaStream_t>(c.stream);
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS: return contiguous(c, tensor_cores, st);
        case MOE_GEMM_LAYOUT_GROUPED_MASKED: return masked(c, tensor_cores, st);
        default: return dense(c, tensor_cores, st);
    }
}

}  // namespace cuda
}  // namespace moe

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_gemm_cuda(const moe_fp8_gemm_args* args) {
    g::Call c;
    if (const int32_t s = g::check_call(args, g::Entry::kCuda, &c); s != MOE_STATUS_OK) return s;
    switch (c.kernel) {
        case MOE_GEMM_KERNEL_MMA: return moe::cuda::gemm_cuda_cores(c, true);
        case MOE_GEMM_KERNEL_WGMMA: return moe::cuda::gemm_wgmma(c);
        case MOE_GEMM_KERNEL_WGMMA_TMA: return moe::cuda::gemm_wgmma_tma(c);
        default: return moe::cuda::gemm_cuda_cores(c, false);
    }
}

}  // extern "C"
#pragma GCC visibility pop
