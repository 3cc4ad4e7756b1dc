// moe_testkit_gate_cuda_host (moe_testkit.h): the CUDA gate kernel's per-token warp code (shared/gate_warp.cuh) run on
// the host, its 32 lanes one after the other in each phase and its warp collectives (argmax rounds, max,
// the softmax sum) as folds over the lanes, so that tests prove the GPU arithmetic equals the CPU kernel
// and the Java reference on machines without a GPU. Single-threaded; for testing, not speed.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../src/shared/gate_warp.cuh"
#include "moe/moe.h"
#include "moe_testkit.h"

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_testkit_gate_cuda_host(const moe_gate_config* config,
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
    namespace gw = moe::gate;
    std::vector<float> sm(static_cast<size_t>(gw::warp_scratch_floats(d)));
    float* s = sm.data();
    float* sel = s + d.n;
    float* gs = sel + d.n;
    float* keep = gs + d.g;
    std::vector<int64_t> load(static_cast<size_t>(d.n), 0);
    int64_t zero_sum = 0;
    gw::Lane lanes[gw::kLanes];
    for (int64_t t = 0; t < num_tokens; ++t) {
        const float* z = logits + t * d.n;
        int32_t* ids = out_ids + t * d.k;
        bool bad = false;
        float mx = moe::bits_to_float(0xff800000u);
        for (int l = 0; l < gw::kLanes; ++l) {
            lanes[l] = gw::lane_start();
            gw::phase_scores(d, z, l, s, lanes[l]);
            bad = bad || lanes[l].bad;
            mx = lanes[l].mx > mx ? lanes[l].mx : mx;
        }
        if (bad) {
            if (stats != nullptr) stats->first_bad_row = t;
            return MOE_STATUS_NON_FINITE_INPUT;  // load untouched, as on the CPU and the GPU
        }
        float sum = 1.0f;
        if (d.score != MOE_SCORE_SIGMOID) {
            for (int l = 0; l < gw::kLanes; ++l) gw::phase_softmax_exp(d, mx, l, s);
            float parts[8];
            for (int j = 0; j < 8; ++j) parts[j] = gw::softmax_class_sum(d, j, s);
            sum = gw::lane_sum8(parts);
        }
        for (int l = 0; l < gw::kLanes; ++l) gw::phase_select(d, bias, sum, l, s, sel);
        if (d.m < d.g) {
            for (int l = 0; l < gw::kLanes; ++l) gw::phase_group_scores(d, l, sel, gs, keep);
            for (int r = 0; r < d.m; ++r) {
                gw::Cand c = gw::no_cand();
                for (int l = 0; l < gw::kLanes; ++l) c = gw::better(c, gw::lane_best_group(d, l, gs, lanes[l]));
                for (int l = 0; l < gw::kLanes; ++l) gw::take_group(l, c.i, lanes[l], keep);
            }
        }
        for (int q = 0; q < d.k; ++q) {
            gw::Cand c = gw::no_cand();
            for (int l = 0; l < gw::kLanes; ++l) c = gw::better(c, gw::lane_best_expert(d, l, sel, keep, lanes[l]));
            for (int l = 0; l < gw::kLanes; ++l) gw::take_expert(l, c.i, lanes[l]);
            ids[q] = c.i;
        }
        zero_sum += gw::phase_weights(d, s, ids, out_weights + t * d.k) ? 1 : 0;
        for (int q = 0; q < d.k; ++q) ++load[static_cast<size_t>(ids[q])];
    }
    if (expert_load != nullptr)
        for (int e = 0; e < d.n; ++e) expert_load[e] += load[static_cast<size_t>(e)];
    if (stats != nullptr) stats->zero_sum_rows = zero_sum;
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
