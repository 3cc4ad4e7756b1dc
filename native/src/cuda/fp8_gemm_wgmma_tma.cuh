// The pipelined Hopper GEMM's launcher (fp8_gemm_wgmma_tma.cu) for other CUDA code: the GPU-resident layer
// launches it on its routed rows, whose offsets only the device knows. Internal.
#pragma once
#include <cuda_runtime.h>

#include "../shared/fp8_gemm_wgmma_pipeline.cuh"

namespace moe {
namespace cuda {

// Selects `device`; MOE_STATUS_OK when it runs the kernel: require_wgmma (compute capability 9.0 and the
// sm_90a image, read from the device).
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
