// The gate's shared arithmetic, the one copy used by the CPU kernel (native/src/cpu/gate_kernel.inc),
// the CUDA kernel (native/src/cuda/gate.cu, through gate_warp.cuh) and its host twin
// (native/testkit/gate_cuda_host.cpp), so that every implementation computes the Java reference's bits:
// the deterministic exp with explicit fmas, the sigmoid, the top-k insertion with ties to the lower
// index, the config dimensions, and the config and buffer checks. Compile device code with --fmad=false
// so that no other multiply-add is fused.
#pragma once

#include <stdint.h>

#include "bits.cuh"
#include "moe/moe.h"

namespace moe {
namespace gate {

constexpr float kExpLowest = -104.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f;
constexpr float kP1 = 1.3981999507e-3f;
constexpr float kP2 = 8.3334519073e-3f;
constexpr float kP3 = 4.1665795894e-2f;
constexpr float kP4 = 1.6666665459e-1f;
constexpr float kP5 = 5.0000001201e-1f;
constexpr float kNormEps = 1e-20f;
// Limits of this implementation; larger configurations get MOE_STATUS_INVALID_CONFIG, never a fallback.
constexpr int kMaxExperts = 1024;
constexpr int kMaxTopJ = 32;

struct Dims {
    int n, g, ng, m, k, j;
    int score, group_score, normalize, bias_mode;
    float scale;
};

MOE_HD Dims dims_of(const moe_gate_config& c) {
    Dims d;
    d.n = c.num_experts;
    d.g = c.num_groups;
    d.ng = c.num_experts / c.num_groups;
    d.m = c.topk_groups;
    d.k = c.topk;
    d.j = c.group_score == MOE_GROUP_SCORE_TOP_J_SUM ? c.group_topj : 1;
    d.score = c.score_func;
    d.group_score = c.group_score;
    d.normalize = c.normalize;
    d.bias_mode = c.bias_mode;
    d.scale = c.route_scale;
    return d;
}

using moe::bits_to_float;
using moe::float_to_bits;

MOE_HD float fma_rn(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return __builtin_fmaf(a, b, c);
#endif
}

MOE_HD float rint_even(float x) {
#if defined(__CUDA_ARCH__)
    return rintf(x);
#else
    return __builtin_rintf(x);
#endif
}

MOE_HD float pow2i(int n) { return bits_to_float(static_cast<uint32_t>(n + 127) << 23); }

MOE_HD float exp_nonpos(float x) {
    x = x < kExpLowest ? kExpLowest : x;
    const float n = rint_even(x * kLog2e);
    float r = fma_rn(-n, kLn2Hi, x);
    r = fma_rn(-n, kLn2Lo, r);
    float p = kP0;
    p = fma_rn(p, r, kP1);
    p = fma_rn(p, r, kP2);
    p = fma_rn(p, r, kP3);
    p = fma_rn(p, r, kP4);
    p = fma_rn(p, r, kP5);
    const float y = fma_rn(p, r * r, r) + 1.0f;
    const int ni = static_cast<int>(n);
    const int n1 = ni >> 1;
    return (y * pow2i(n1)) * pow2i(ni - n1);
}

// The sum of 8 interleaved lane sums (lane = index mod 8), combined pairwise: the order of every
// vectorised sum, so scalar and vector builds agree.
MOE_HD float lane_sum8(const float* lanes) {
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

MOE_HD bool is_finite(float v) { return (float_to_bits(v) & 0x7f800000u) != 0x7f800000u; }

MOE_HD float abs_f(float v) { return bits_to_float(float_to_bits(v) & 0x7fffffffu); }

// sigmoid(z) = 1/(1+e) for z >= 0 and e/(1+e) for z < 0, e = exp(-|z|): never overflows.
MOE_HD float sigmoid(float z) {
    const float e = exp_nonpos(-abs_f(z));
    return (z >= 0.0f ? 1.0f : e) / (1.0f + e);
}

// Offer (v, idx) to a descending top-k list; candidates arrive in increasing idx, so a strict '>'
// keeps ties in favour of the lower index.
MOE_HD void topk_offer(float* tv, int32_t* ti, int k, int& count, float v, int32_t idx) {
    int pos;
    if (count < k) {
        pos = count++;
    } else {
        if (!(v > tv[k - 1])) return;
        pos = k - 1;
    }
    while (pos > 0 && v > tv[pos - 1]) {
        tv[pos] = tv[pos - 1];
        ti[pos] = ti[pos - 1];
        --pos;
    }
    tv[pos] = v;
    ti[pos] = idx;
}

// moe_gate_config_check (moe.h), shared by the CPU and CUDA libraries.
MOE_HD int32_t check_config(const moe_gate_config* c) {
    if (c == nullptr) return MOE_STATUS_NULL_POINTER;
    if (c->num_experts < 1 || c->num_groups < 1 || c->num_experts % c->num_groups != 0) return MOE_STATUS_INVALID_CONFIG;
    const int32_t group_size = c->num_experts / c->num_groups;
    if (c->topk_groups < 1 || c->topk_groups > c->num_groups) return MOE_STATUS_INVALID_CONFIG;
    if (c->topk < 1 || static_cast<int64_t>(c->topk) > static_cast<int64_t>(c->topk_groups) * group_size)
        return MOE_STATUS_INVALID_CONFIG;
    if (c->score_func != MOE_SCORE_SIGMOID && c->score_func != MOE_SCORE_SOFTMAX) return MOE_STATUS_INVALID_CONFIG;
    if (c->group_score != MOE_GROUP_SCORE_MAX && c->group_score != MOE_GROUP_SCORE_TOP_J_SUM) return MOE_STATUS_INVALID_CONFIG;
    if (c->group_score == MOE_GROUP_SCORE_TOP_J_SUM && c->topk_groups < c->num_groups &&
        (c->group_topj < 1 || c->group_topj > group_size))
        return MOE_STATUS_INVALID_CONFIG;
    if (c->normalize != 0 && c->normalize != 1) return MOE_STATUS_INVALID_CONFIG;
    const uint32_t scale_bits = float_to_bits(c->route_scale);
    if ((scale_bits & 0x7f800000u) == 0x7f800000u || !(c->route_scale > 0.0f)) return MOE_STATUS_INVALID_CONFIG;
    if (c->bias_mode != MOE_BIAS_ADD && c->bias_mode != MOE_BIAS_MULTIPLY) return MOE_STATUS_INVALID_CONFIG;
    return MOE_STATUS_OK;
}

// Buffer sizes and pointers of a gate call, the same rules for moe_gate_cpu, the gate host twin and
// moe_gate_cuda (host code: the pointers are only compared with NULL). The config must be valid.
inline int32_t check_buffers(const moe_gate_config& c, const void* logits, int64_t logits_count, const void* bias,
                             int64_t bias_count, int64_t num_tokens, const void* ids, int64_t ids_count, const void* weights,
                             int64_t weights_count, const void* load, int64_t load_count) {
    const int64_t n = c.num_experts;
    const int64_t k = c.topk;
    const auto product_is = [](int64_t count, int64_t a, int64_t b) {
        return a >= 0 && b >= 0 && static_cast<__int128>(a) * b == count;
    };
    if (num_tokens < 0 || !product_is(logits_count, num_tokens, n) || !product_is(ids_count, num_tokens, k) ||
        !product_is(weights_count, num_tokens, k))
        return MOE_STATUS_BAD_BUFFER_SIZE;
    if ((bias == nullptr) != (bias_count == 0) || (bias != nullptr && bias_count != n)) return MOE_STATUS_BAD_BUFFER_SIZE;
    if ((load == nullptr) != (load_count == 0) || (load != nullptr && load_count != n)) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (num_tokens > 0 && (logits == nullptr || ids == nullptr || weights == nullptr)) return MOE_STATUS_NULL_POINTER;
    return MOE_STATUS_OK;
}

// Whether this implementation handles the (valid) configuration.
MOE_HD bool supported(const Dims& d) { return d.n <= kMaxExperts && d.k <= kMaxExperts && d.j <= kMaxTopJ; }

}  // namespace gate
}  // namespace moe
