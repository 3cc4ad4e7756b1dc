// The gate's deterministic exp and sigmoid (shared/gate_token.cuh, exp_nonpos, sigmoid) on 8 AVX lanes, and
// a cheap non-finite check, shared by the AVX2 builds of the gate and of training's element-wise kernels.
// Include only from code compiled with -mavx2 -mfma; internal linkage, so each kernel keeps its own copy
// built with its own flags.
#pragma once
#include <immintrin.h>

#include "../shared/gate_token.cuh"

namespace moe {

// gate::exp_nonpos on 8 lanes. When every lane's 2^n is at least 2^-125 the result y * 2^n is normal,
// so the reference's two-step scaling (both steps exact then) equals one exact product; otherwise
// (x below about -86.6, rare for logits) the two steps are taken as written.
static inline __m256 exp_nonpos8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(gate::kExpLowest));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(gate::kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(gate::kLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(gate::kLn2Lo), r);
    __m256 p = _mm256_set1_ps(gate::kP0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(gate::kP1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(gate::kP2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(gate::kP3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(gate::kP4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(gate::kP5));
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i bias = _mm256_set1_epi32(127);
    if (_mm256_movemask_ps(_mm256_cmp_ps(n, _mm256_set1_ps(-125.0f), _CMP_LT_OQ)) == 0)
        return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, bias), 23)));
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

// Accumulates a non-finite check: z * 0 is ±0 for finite z (adding it changes nothing) and NaN for an
// infinity or NaN, which then stays in the accumulator. One fused op per vector.
static inline __m256 nonfinite_acc(__m256 acc, __m256 z) { return _mm256_fmadd_ps(z, _mm256_setzero_ps(), acc); }

static inline bool any_nan(__m256 acc) { return _mm256_movemask_ps(_mm256_cmp_ps(acc, acc, _CMP_UNORD_Q)) != 0; }

// gate::sigmoid on 8 lanes: e = exp(-|z|), (z >= 0 ? 1 : e) / (1 + e).
static inline __m256 sigmoid8(__m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp_nonpos8(_mm256_or_ps(z, _mm256_set1_ps(-0.0f)));  // -|z|, as the scalar form
    const __m256 num = _mm256_blendv_ps(e, one, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_div_ps(num, _mm256_add_ps(one, e));
}

}  // namespace moe
