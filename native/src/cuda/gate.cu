// The fused gate on a CUDA device (moe_gate_cuda in moe.h): a finite check of the logits, then one
// kernel for scores, bias, group limit, top-K, weights and the per-expert load histogram, with the
// arithmetic of gate_token.cuh (bit-identical to the CPU kernel and the Java reference).
//
// One warp per token (grid-stride over tokens): the lanes share the token's experts, and the group and
// expert top-k are rounds of a warp argmax (shared/gate_warp.cuh, whose lane phases the host runs in
// testkit/gate_cuda_host.cpp to prove this arithmetic without a GPU). Each block counts its tokens' choices in a
// shared-memory histogram and adds it to the global load once.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/gate_warp.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

using moe::gate::Cand;
using moe::gate::Dims;
namespace gw = moe::gate;

constexpr long long kNoBadRow = 0x7fffffffffffffffLL;
constexpr unsigned kFull = 0xffffffffu;
constexpr int kMaxWarps = 8;
constexpr int kMaxBlocks = 4096;

__global__ void init_stats(long long* stats) {
    stats[0] = kNoBadRow;
    stats[1] = 0;
}

// stats[0] = the first token holding a non-finite logit (coalesced over all logits).
__global__ void find_bad_rows(const float* logits, int64_t count, int n, long long* stats) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count; i += stride)
        if (!gw::is_finite(logits[i])) atomicMin(&stats[0], static_cast<long long>(i / n));
}

__device__ __forceinline__ Cand warp_best(Cand c) {
    for (int off = 16; off > 0; off >>= 1) {
        Cand o;
        o.v = __shfl_xor_sync(kFull, c.v, off);
        o.i = __shfl_xor_sync(kFull, c.i, off);
        c = gw::better(c, o);
    }
    return c;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) {
        const float o = __shfl_xor_sync(kFull, v, off);
        v = o > v ? o : v;
    }
    return v;
}

// One token on one warp: the phases of gate_warp.cuh with the collectives between them. Returns
// whether the sum of the chosen scores was zero (lane 0's answer; all lanes return it).
__device__ bool route_token_warp(const Dims& d, const float* z, const float* bias, float* sm, int lane, int32_t* ids,
                                 float* w) {
    float* s = sm;
    float* sel = sm + d.n;
    float* gs = sm + 2 * d.n;
    float* keep = gs + d.g;
    gw::Lane L = gw::lane_start();
    gw::phase_scores(d, z, lane, s, L);
    float sum = 1.0f;
    if (d.score != MOE_SCORE_SIGMOID) {
        const float mx = warp_max(L.mx);
        gw::phase_softmax_exp(d, mx, lane, s);
        __syncwarp();
        const float part = lane < 8 ? gw::softmax_class_sum(d, lane, s) : 0.0f;
        float parts[8];
#pragma unroll
        for (int j = 0; j < 8; ++j) parts[j] = __shfl_sync(kFull, part, j);
        sum = gw::lane_sum8(parts);
        __syncwarp();
    }
    gw::phase_select(d, bias, sum, lane, s, sel);
    __syncwarp();
    if (d.m < d.g) {
        gw::phase_group_scores(d, lane, sel, gs, keep);
        __syncwarp();
        for (int r = 0; r < d.m; ++r) {
            const Cand c = warp_best(gw::lane_best_group(d, lane, gs, L));
            gw::take_group(lane, c.i, L, keep);
        }
        __syncwarp();
    }
    for (int q = 0; q < d.k; ++q) {
        const Cand c = warp_best(gw::lane_best_expert(d, lane, sel, keep, L));
        gw::take_expert(lane, c.i, L);
        if (lane == 0) ids[q] = c.i;
    }
    __syncwarp();
    bool zero_sum = false;
    if (lane == 0) zero_sum = gw::phase_weights(d, s, ids, w);
    return __shfl_sync(kFull, zero_sum ? 1 : 0, 0) != 0;
}

__global__ void route(Dims d, const float* logits, const float* bias, int64_t tokens, int32_t* ids, float* weights,
                      unsigned long long* load, long long* stats, int warps) {
    extern __shared__ float smem[];
    if (stats[0] != kNoBadRow) return;  // a non-finite row: outputs unspecified, load untouched (as on the CPU)
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int warp = static_cast<int>(threadIdx.x) >> 5;
    unsigned int* hist = reinterpret_cast<unsigned int*>(smem);
    float* sm = smem + d.n + warp * gw::warp_scratch_floats(d);
    for (int i = threadIdx.x; i < d.n; i += blockDim.x) hist[i] = 0u;
    __syncthreads();
    const int64_t stride = static_cast<int64_t>(gridDim.x) * warps;
    long long zero_rows = 0;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * warps + warp; t < tokens; t += stride) {
        int32_t* my_ids = ids + t * d.k;
        const bool zs = route_token_warp(d, logits + t * d.n, bias, sm, lane, my_ids, weights + t * d.k);
        zero_rows += zs ? 1 : 0;
        __syncwarp();  // lane 0's ids are visible to the warp
        if (load != nullptr)
            for (int q = lane; q < d.k; q += 32) atomicAdd(&hist[my_ids[q]], 1u);
        __syncwarp();  // the scratch is reused by the next token
    }
    if (lane == 0 && zero_rows != 0) atomicAdd(reinterpret_cast<unsigned long long*>(&stats[1]), static_cast<unsigned long long>(zero_rows));
    __syncthreads();
    if (load != nullptr)
        for (int i = threadIdx.x; i < d.n; i += blockDim.x)
            if (hist[i] != 0u) atomicAdd(&load[i], static_cast<unsigned long long>(hist[i]));
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_gate_cuda(int32_t device, void* stream, const moe_gate_config* config,
                      const float* logits, int64_t logits_count,
                      const float* bias, int64_t bias_count,
                      int64_t num_tokens,
                      int32_t* out_ids, int64_t ids_count,
                      float* out_weights, int64_t weights_count,
                      int64_t* expert_load, int64_t load_count,
                      int64_t* stats) {
    const int32_t cs = moe::gate::check_config(config);
    if (cs != MOE_STATUS_OK) return cs;
    const Dims d = moe::gate::dims_of(*config);
    if (!moe::gate::supported(d)) return MOE_STATUS_INVALID_CONFIG;
    const int32_t bs = moe::gate::check_buffers(*config, logits, logits_count, bias, bias_count, num_tokens, out_ids, ids_count,
                                                out_weights, weights_count, expert_load, load_count);
    if (bs != MOE_STATUS_OK) return bs;
    if (stats == nullptr) return MOE_STATUS_NULL_POINTER;
    const int32_t s = moe::cuda::select_device(device);
    if (s != MOE_STATUS_OK) return s;
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    long long* dstats = reinterpret_cast<long long*>(stats);
    init_stats<<<1, 1, 0, st>>>(dstats);
    if (num_tokens > 0) {
        // Warps per block: as many as fit 48 KiB of scratch (with the block's histogram), at most 8.
        const size_t per_warp = static_cast<size_t>(gw::warp_scratch_floats(d)) * sizeof(float);
        const size_t hist = static_cast<size_t>(d.n) * sizeof(float);
        int warps = static_cast<int>((48 * 1024 - hist) / per_warp);
        warps = warps > kMaxWarps ? kMaxWarps : (warps < 1 ? 1 : warps);
        int64_t blocks = (num_tokens + warps - 1) / warps;
        blocks = blocks > kMaxBlocks ? kMaxBlocks : blocks;
        const int64_t count = num_tokens * d.n;
        const int64_t check_blocks = (count + 255) / 256 < 65536 ? (count + 255) / 256 : 65536;
        find_bad_rows<<<static_cast<unsigned>(check_blocks), 256, 0, st>>>(logits, count, d.n, dstats);
        route<<<static_cast<unsigned>(blocks), warps * 32, hist + per_warp * warps, st>>>(
            d, logits, bias, num_tokens, out_ids, out_weights, reinterpret_cast<unsigned long long*>(expert_load), dstats,
            warps);
    }
    return moe::cuda::fail(cudaGetLastError());
}

}  // extern "C"
#pragma GCC visibility pop
