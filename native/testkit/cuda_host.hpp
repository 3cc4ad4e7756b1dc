// Host runners of CUDA block code shared by the testkit's host twins. Internal.
#pragma once

#include "../src/shared/fp8_gemm_tile.cuh"
#include "../src/shared/fp8_gemm_wgmma_pipeline.cuh"

namespace moe {
namespace fp8gemm {

// One 64x64 output tile of p as the CUDA kernel's block computes it: its 256 threads' phases in
// barrier order. lut: the 256 decoded E4M3 codes.
void host_tile(const Problem& p, int64_t row0, int64_t col0, const float* lut);

// The E4M3 decode table the kernel builds in shared memory.
void host_lut(float* lut);

}  // namespace fp8gemm

namespace fp8mma {

// One 64x64 output tile of the tensor-core kernel (fp8_gemm_mma.cuh): its 128 threads' phases, each warp's
// mma.sync emulated from the PTX fragment layout with products added in increasing k; bf16: the sm_80 path.
void host_tile_mma(const fp8gemm::Problem& p, int64_t row0, int64_t col0, const float* lut, bool bf16);

}  // namespace fp8mma

namespace fp8wgmma {

// One 64x128 output tile of the Hopper kernel (fp8_gemm_wgmma.cuh): staging into a shared-memory byte
// array, each wgmma emulated from its descriptors with products added in increasing k. false: a
// descriptor the emulation cannot decode or one reaching outside the shared-memory window.
bool host_tile_wgmma(const fp8gemm::Problem& p, int64_t row0, int64_t col0, const float* lut);

// wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 d, desc_a, desc_b, scale_d, 1, 1 for the
// warpgroup (d: 128 threads x 64 registers), operands read through their descriptors from `shared` (window
// bytes): each output's 32 products added in increasing k to (scale_d ? d : +0). false: a descriptor the
// emulation cannot decode or one reaching outside the window.
bool wgmma_host(float (*d)[kRegs], uint64_t desc_a, uint64_t desc_b, bool scale_d, const uint8_t* shared, uint32_t window,
                const float* lut);

namespace pipe {

// A launch of the pipelined kernel (fp8_gemm_wgmma_pipeline.cuh) on the host: `blocks` blocks in turn, each
// one's producer and two consumer warpgroups as threads taking turns at their barrier waits (consumers
// first), TMA boxes and wgmmas emulated. num_groups: the launch's experts (grouped layouts). false: a
// deadlock, a barrier misuse or an emulation failure.
bool host_launch(const Schedule& s, int64_t num_groups, int64_t blocks, const float* lut);

// host_launch on a grid of a few blocks, so that each walks several tiles and carries its stage ring from
// one tile to the next: MOE_STATUS_OK, or MOE_STATUS_INTERNAL_ERROR for what host_launch reports.
int32_t host_run(const Schedule& s, int64_t num_groups);

}  // namespace pipe

}  // namespace fp8wgmma
}  // namespace moe
