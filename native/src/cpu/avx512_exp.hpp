// The gate's deterministic exp and sigmoid (shared/gate_token.cuh) on 16 AVX-512 lanes and the non-finite
// check, for the AVX-512 build of the gate. The same operations per lane as exp_nonpos8 and sigmoid8
// (avx2_exp.hpp), so the same bits. Include only from code compiled with -mavx512f; internal linkage.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../shared/gate_token.cuh"

namespace moe {

static inline __m512 exp_nonpos16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(gate::kExpLowest));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(gate::kLog2e)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(gate::kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(gate::kLn2Lo), r);
    __m512 p = _mm512_set1_ps(gate::kP0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(gate::kP1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(gate::kP2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(gate::kP3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(gate::kP4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(gate::kP5));
    const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i bias = _mm512_set1_epi32(127);
    // As exp_nonpos8: one exact product when every 2^n is normal, else the reference's two steps.
    if (_mm512_cmp_ps_mask(n, _mm512_set1_ps(-125.0f), _CMP_LT_OQ) == 0)
        return _mm512_mul_ps(y, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ni, bias), 23)));
    const __m512i n1 = _mm512_srai_epi32(ni, 1);
    const __m512i n2 = _mm512_sub_epi32(ni, n1);
    const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(y, s1), s2);
}

// z * 0 accumulated: NaN stays once an infinity or NaN has been seen.
static inline __m512 nonfinite_acc16(__m512 acc, __m512 z) { return _mm512_fmadd_ps(z, _mm512_setzero_ps(), acc); }

static inline bool any_nan16(__m512 acc) { return _mm512_cmp_ps_mask(acc, acc, _CMP_UNORD_Q) != 0; }

// gate::sigmoid on 16 lanes, as sigmoid8.
static inline __m512 sigmoid16(__m512 z) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 e = exp_nonpos16(
        _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(z), _mm512_set1_epi32(INT32_MIN))));  // -|z|
    const __m512 num = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ), e, one);
    return _mm512_div_ps(num, _mm512_add_ps(one, e));
}

}  // namespace moe
