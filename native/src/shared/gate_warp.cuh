// The CUDA gate's per-token work for one warp (cuda/gate.cu), written as lane phases separated by warp
// collectives so that the host (testkit/gate_cuda_host.cpp) runs exactly the same code lane by lane: one warp
// routes one token; lane l owns experts l, l + 32, ... (at most 32 each, N <= 1024).
//
// Bit-identical to the CPU kernel and the Java reference because every value is computed by the same
// operations in the same order (gate_token.cuh's exp, sigmoid and top-J group sums; the softmax sum in
// the reference's 8 interleaved lanes, each summed in increasing index, combined pairwise), and every
// selection is a total order: best = larger value, on equal values the lower index. The M groups and K
// experts are picked by M and K rounds of a warp argmax in that order, which yields the reference's
// sorted top-K (ties to the lower index) without sorting.
#pragma once

#include <stdint.h>

#include "gate_token.cuh"

namespace moe {
namespace gate {

constexpr int kLanes = 32;
constexpr int kNoIndex = 0x7fffffff;

// A candidate of an argmax round; index kNoIndex (value -inf) when a lane has none.
struct Cand {
    float v;
    int32_t i;
};

MOE_HD Cand no_cand() { return Cand{bits_to_float(0xff800000u), kNoIndex}; }

// The better of two candidates: larger value, then lower index. Associative and commutative (indices
// are distinct), so any reduction order gives the same winner.
MOE_HD Cand better(Cand a, Cand b) {
    if (a.v > b.v) return a;
    if (b.v > a.v) return b;
    return a.i < b.i ? a : b;
}

// Per-warp scratch in shared memory: s[N], sel[N], gs[G], keep[G].
MOE_HD int warp_scratch_floats(const Dims& d) { return 2 * d.n + 2 * d.g; }

// What a lane keeps in registers between phases.
struct Lane {
    bool bad;             // saw a non-finite logit
    float mx;             // softmax: the lane's max logit
    uint32_t taken;       // bit m: expert lane + 32m already chosen
    uint32_t group_taken; // bit m: group lane + 32m already kept
};

MOE_HD Lane lane_start() { return Lane{false, bits_to_float(0xff800000u), 0u, 0u}; }

// Phase 1: sigmoid scores (or, for softmax, the logits and their max) of the lane's experts into s.
MOE_HD void phase_scores(const Dims& d, const float* z, int lane, float* s, Lane& L) {
    for (int i = lane; i < d.n; i += kLanes) {
        const float v = z[i];
        if (!is_finite(v)) {
            L.bad = true;
            continue;
        }
        if (d.score == MOE_SCORE_SIGMOID) {
            s[i] = sigmoid(v);
        } else {
            s[i] = v;
            L.mx = v > L.mx ? v : L.mx;
        }
    }
}

// Softmax phase 2 (after the warp max mx): exponentials in place.
MOE_HD void phase_softmax_exp(const Dims& d, float mx, int lane, float* s) {
    for (int i = lane; i < d.n; i += kLanes) s[i] = exp_nonpos(s[i] - mx);
}

// Softmax phase 3, lanes 0..7: the reference's lane sum of class j = i mod 8, in increasing i.
MOE_HD float softmax_class_sum(const Dims& d, int j, const float* s) {
    float acc = 0.0f;
    for (int i = j; i < d.n; i += 8) acc += s[i];
    return acc;
}

// Phase 4: softmax normalisation (if softmax) and the selection scores.
MOE_HD void phase_select(const Dims& d, const float* bias, float sum, int lane, float* s, float* sel) {
    for (int i = lane; i < d.n; i += kLanes) {
        if (d.score != MOE_SCORE_SIGMOID) s[i] = s[i] / sum;
        sel[i] = bias == nullptr ? s[i] : (d.bias_mode == MOE_BIAS_MULTIPLY ? s[i] * bias[i] : s[i] + bias[i]);
    }
}

// The sum of the j best of v[0..ng) (larger value, then lower index), best first, as the reference adds
// its sorted top-J: j selection rounds, each taking the best entry after the previous pick in that order.
// No indexed array (a top-J buffer would live in local memory on the device), same values, same order.
MOE_HD float top_j_sum(const float* v, int ng, int j) {
    float sum = 0.0f;
    Cand prev{bits_to_float(0x7f800000u), -1};  // +inf: every entry comes after it
    for (int q = 0; q < j; ++q) {
        Cand c = no_cand();
        for (int i = 0; i < ng; ++i)
            if (v[i] < prev.v || (v[i] == prev.v && i > prev.i)) c = better(c, Cand{v[i], i});
        sum = q == 0 ? c.v : sum + c.v;
        prev = c;
    }
    return sum;
}

// Phase 5 (group limit only): the scores of the lane's groups; keep cleared.
MOE_HD void phase_group_scores(const Dims& d, int lane, const float* sel, float* gs, float* keep) {
    for (int g = lane; g < d.g; g += kLanes) {
        const float* v = sel + g * d.ng;
        float score;
        if (d.group_score == MOE_GROUP_SCORE_MAX) {
            score = v[0];
            for (int i = 1; i < d.ng; ++i) score = v[i] > score ? v[i] : score;
        } else {
            score = top_j_sum(v, d.ng, d.j);
        }
        gs[g] = score;
        keep[g] = 0.0f;
    }
}

// A group round: the lane's best group not yet kept.
MOE_HD Cand lane_best_group(const Dims& d, int lane, const float* gs, const Lane& L) {
    Cand c = no_cand();
    for (int m = 0, g = lane; g < d.g; ++m, g += kLanes)
        if (!((L.group_taken >> m) & 1u)) c = better(c, Cand{gs[g], g});
    return c;
}

// After a group round won by g: its owner marks it, and it is kept.
MOE_HD void take_group(int lane, int32_t g, Lane& L, float* keep) {
    if (g % kLanes == lane) {
        L.group_taken |= 1u << (g / kLanes);
        keep[g] = 1.0f;
    }
}

// An expert round: the lane's best expert of a kept group (all groups without a limit) not yet chosen.
MOE_HD Cand lane_best_expert(const Dims& d, int lane, const float* sel, const float* keep, const Lane& L) {
    Cand c = no_cand();
    const bool limited = d.m < d.g;
    for (int m = 0, i = lane; i < d.n; ++m, i += kLanes) {
        if ((L.taken >> m) & 1u) continue;
        if (limited && keep[i / d.ng] == 0.0f) continue;
        c = better(c, Cand{sel[i], i});
    }
    return c;
}

MOE_HD void take_expert(int lane, int32_t i, Lane& L) {
    if (i % kLanes == lane) L.taken |= 1u << (i / kLanes);
}

// Final phase, one lane: weights of the chosen ids (already in ids[0..K)), as the reference computes them.
MOE_HD bool phase_weights(const Dims& d, const float* s, const int32_t* ids, float* w) {
    float denom = 1.0f;
    bool zero_sum = false;
    if (d.normalize) {
        float sum = 0.0f;
        for (int q = 0; q < d.k; ++q) sum += s[ids[q]];
        zero_sum = sum == 0.0f;
        denom = sum + kNormEps;
    }
    for (int q = 0; q < d.k; ++q) {
        float wq = s[ids[q]];
        if (d.normalize) wq = wq / denom;
        w[q] = wq * d.scale;
    }
    return zero_sum;
}

}  // namespace gate
}  // namespace moe
