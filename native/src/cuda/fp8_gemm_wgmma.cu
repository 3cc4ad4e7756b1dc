// MOE_GEMM_KERNEL_WGMMA (moe.h): the FP8 block-scaled GEMM on Hopper's warpgroup tensor-core instruction,
// one 64x128 output tile per block of one warpgroup, the phases of shared/fp8_gemm_wgmma.cuh (the testkit's
// host twin runs the same phases). The threads stage the operands with plain loads, one chunk in flight;
// fp8_gemm_wgmma_tma.cu is the TMA-fed, pipelined form of the same chunk.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_groups.cuh"
#include "../shared/fp8_gemm_wgmma.cuh"
#include "cuda_status.cuh"
#include "fp8_gemm_launch.cuh"
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

namespace moe {
namespace cuda {

int32_t gemm_wgmma(const g::Call& c) {
    const cudaStream_t st = static_cast<cudaStream_t>(c.stream);
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS: {
            if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
            if (tiles(c.n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
            if (const int32_t s = require_wgmma(c.device); s != MOE_STATUS_OK) return s;
            return g::for_each_launch(c.groups, c.offsets, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c,
                                      [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                          int64_t row_tiles) {
                                          if (row_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
                                          const dim3 grid(static_cast<unsigned>(tiles(c.n, wg::kBn)), static_cast<unsigned>(row_tiles));
                                          grouped_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, st>>>(base, groups, b_stride,
                                                                                                        sb_stride);
                                          return fail(cudaGetLastError());
                                      });
        }
        case MOE_GEMM_LAYOUT_GROUPED_MASKED: {
            if (c.groups == 0 || c.max_m == 0 || c.n == 0) return MOE_STATUS_OK;
            const int64_t row_tiles = c.groups * tiles(c.max_m, g::kBm);
            if (row_tiles > 65535 || tiles(c.n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
            if (const int32_t s = require_wgmma(c.device); s != MOE_STATUS_OK) return s;
            const dim3 grid(static_cast<unsigned>(tiles(c.n, wg::kBn)), static_cast<unsigned>(row_tiles));
            const g::Problem base{0, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
            masked_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, st>>>(base, c.max_m, c.counts);
            return fail(cudaGetLastError());
        }
        default: {
            if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
            if (tiles(c.m, wg::kBm) > 65535 || tiles(c.n, wg::kBn) > INT32_MAX) return MOE_STATUS_BAD_BUFFER_SIZE;
            if (const int32_t s = require_wgmma(c.device); s != MOE_STATUS_OK) return s;
            const dim3 grid(static_cast<unsigned>(tiles(c.n, wg::kBn)), static_cast<unsigned>(tiles(c.m, wg::kBm)));
            const g::Problem p{c.m, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
            gemm_wgmma_kernel<<<grid, wg::kThreads, kDynamicSmem, st>>>(p);
            return fail(cudaGetLastError());
        }
    }
}

}  // namespace cuda
}  // namespace moe

