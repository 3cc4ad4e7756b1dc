// moe_gate_cuda_host (moe.h): the CUDA gate kernel's per-token code (shared/gate_token.cuh) run on
// the host, so that tests prove the GPU arithmetic equals the CPU kernel and the Java reference on
// machines without a GPU. Single-threaded; for testing, not speed.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../shared/gate_token.cuh"
#include "moe/moe.h"

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_gate_cuda_host(const moe_gate_config* config,
                           const float* logits, int64_t logits_count,
                           const float* bias, int64_t bias_count,
                           int64_t num_tokens,
                           int32_t* out_ids, int64_t ids_count,
                           float* out_weights, int64_t weights_count,
                           int64_t* expert_load, int64_t load_count,
                           moe_gate_stats* stats) {
    if (stats != nullptr) {
        stats->first_bad_row = -1;
        stats->zero_sum_rows = 0;
    }
    const int32_t cs = moe::gate::check_config(config);
    if (cs != MOE_STATUS_OK) return cs;
    const moe::gate::Dims d = moe::gate::dims_of(*config);
    if (!moe::gate::supported(d)) return MOE_STATUS_INVALID_CONFIG;
    const int32_t bs = moe::gate::check_buffers(*config, logits, logits_count, bias, bias_count, num_tokens, out_ids, ids_count,
                                                out_weights, weights_count, expert_load, load_count);
    if (bs != MOE_STATUS_OK) return bs;
    const int tv_len = d.k > d.m ? (d.k > d.j ? d.k : d.j) : (d.m > d.j ? d.m : d.j);
    std::vector<float> scratch(static_cast<size_t>(moe::gate::scratch_floats(d)));
    std::vector<float> tv(static_cast<size_t>(tv_len));
    std::vector<int32_t> ti(static_cast<size_t>(tv_len));
    std::vector<int64_t> load(static_cast<size_t>(d.n), 0);
    int64_t zero_sum = 0;
    for (int64_t t = 0; t < num_tokens; ++t) {
        bool zs = false;
        if (!moe::gate::route_token(d, logits + t * d.n, bias, scratch.data(), tv.data(), ti.data(), out_ids + t * d.k,
                                    out_weights + t * d.k, &zs)) {
            if (stats != nullptr) stats->first_bad_row = t;
            return MOE_STATUS_NON_FINITE_INPUT;  // load untouched, as on the CPU and the GPU
        }
        zero_sum += zs ? 1 : 0;
        for (int q = 0; q < d.k; ++q) ++load[static_cast<size_t>(out_ids[t * d.k + q])];
    }
    if (expert_load != nullptr)
        for (int e = 0; e < d.n; ++e) expert_load[e] += load[static_cast<size_t>(e)];
    if (stats != nullptr) stats->zero_sum_rows = zero_sum;
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
