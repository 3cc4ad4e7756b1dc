// The fused gate on a CUDA device (moe_gate_cuda in moe.h): a finite check of the logits, then one
// kernel for scores, bias, group limit, top-K, weights and the per-expert load histogram, with the
// arithmetic of gate_token.cuh (bit-identical to the CPU kernel and the Java reference).
//
// This first version routes one token per thread with its scratch in shared memory; it is correct
// by construction (the same per-token code is run and tested on the host, see gate_cuda_host.cpp)
// but not yet the warp-cooperative kernel the performance goal needs.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/gate_token.cuh"
#include "cuda_status.cuh"
#include "moe/moe.h"

namespace {

using moe::gate::Dims;

constexpr long long kNoBadRow = 0x7fffffffffffffffLL;

__global__ void init_stats(long long* stats) {
    stats[0] = kNoBadRow;
    stats[1] = 0;
}

// stats[0] = the first token holding a non-finite logit.
__global__ void find_bad_rows(const float* logits, int64_t tokens, int n, long long* stats) {
    const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (t >= tokens) return;
    const float* z = logits + t * n;
    for (int i = 0; i < n; ++i) {
        if (!moe::gate::is_finite(z[i])) {
            atomicMin(&stats[0], static_cast<long long>(t));
            return;
        }
    }
}

__global__ void route(Dims d, const float* logits, const float* bias, int64_t tokens, int32_t* ids, float* weights,
                      unsigned long long* load, long long* stats, int tv_len) {
    extern __shared__ float smem[];
    if (stats[0] != kNoBadRow) return;  // a non-finite row: outputs unspecified, load untouched (as on the CPU)
    const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (t >= tokens) return;
    const int per = moe::gate::scratch_floats(d) + 2 * tv_len;
    float* scratch = smem + threadIdx.x * per;
    float* tv = scratch + moe::gate::scratch_floats(d);
    int32_t* ti = reinterpret_cast<int32_t*>(tv + tv_len);
    bool zero_sum = false;
    int32_t* my_ids = ids + t * d.k;
    float* my_w = weights + t * d.k;
    if (!moe::gate::route_token(d, logits + t * d.n, bias, scratch, tv, ti, my_ids, my_w, &zero_sum)) return;
    if (zero_sum) atomicAdd(reinterpret_cast<unsigned long long*>(&stats[1]), 1ULL);
    if (load != nullptr)
        for (int q = 0; q < d.k; ++q) atomicAdd(&load[my_ids[q]], 1ULL);
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
        const int tv_len = d.k > d.m ? (d.k > d.j ? d.k : d.j) : (d.m > d.j ? d.m : d.j);
        const size_t per = (static_cast<size_t>(moe::gate::scratch_floats(d)) + 2 * static_cast<size_t>(tv_len)) * sizeof(float);
        int threads = static_cast<int>((48 * 1024) / per);
        threads = threads > 128 ? 128 : (threads < 1 ? 1 : threads);
        const int64_t blocks = (num_tokens + threads - 1) / threads;
        if (blocks > 0x7fffffffLL) return MOE_STATUS_BAD_BUFFER_SIZE;
        find_bad_rows<<<static_cast<unsigned>((num_tokens + 127) / 128), 128, 0, st>>>(logits, num_tokens, d.n, dstats);
        route<<<static_cast<unsigned>(blocks), threads, per * threads, st>>>(
            d, logits, bias, num_tokens, out_ids, out_weights, reinterpret_cast<unsigned long long*>(expert_load), dstats,
            tv_len);
    }
    return moe::cuda::fail(cudaGetLastError());
}

}  // extern "C"
#pragma GCC visibility pop
