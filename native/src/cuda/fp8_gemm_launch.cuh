// The CUDA FP8 GEMM kernels behind moe_fp8_gemm_cuda (fp8_gemm.cu checks the call once and dispatches on
// its kernel kind), and the pipelined Hopper kernel's launcher for the GPU-resident layer, which launches
// it on routed rows whose offsets only the device knows. Internal.
#pragma once
#include <cuda_runtime.h>

#include "../shared/fp8_gemm_args.cuh"
#include "../shared/fp8_gemm_wgmma_pipeline.cuh"

namespace moe {
namespace cuda {

// One checked call (any layout) on the one-tile-per-block kernels of fp8_gemm.cu: the exact CUDA-core
// kernel, or with tensor_cores the mma.sync kernel.
int32_t gemm_cuda_cores(const fp8gemm::Call& c, bool tensor_cores);

// One checked call on the Hopper wgmma kernel (fp8_gemm_wgmma.cu).
int32_t gemm_wgmma(const fp8gemm::Call& c);

// One checked call on the TMA-fed, warp-specialised wgmma kernel (fp8_gemm_wgmma_tma.cu); shapes TMA cannot
// describe run gemm_wgmma, which gives the same bits.
int32_t gemm_wgmma_tma(const fp8gemm::Call& c);

// Selects `device`; MOE_STATUS_OK when it runs the TMA-fed kernel: require_wgmma (compute capability 9.0 and
// the sm_90a image, read from the device).
int32_t require_wgmma_tma(int32_t device);

// Caps the blocks of every later persistent launch (0: one per SM, the default), so that each block walks
// many tiles: the ring carried over from tile to tile, the raster order, the producer running ahead into
// the next tile. Until called, the environment variable MOE_CUDA_GRID_CAP (a positive integer) sets it.
void set_persistent_grid_cap(int64_t blocks);

// One persistent launch over s's tiles on `stream`: the tensor maps of s's A and B (num_groups: the
// launch's experts, for the grouped layouts) are made on the host, then the kernel is enqueued. K must
// be a multiple of 16 and the code bases 16-byte aligned (TMA).
int32_t wgmma_tma_launch(int32_t device, cudaStream_t stream, const fp8wgmma::pipe::Schedule& s, int64_t num_groups);

}  // namespace cuda
}  // namespace moe
