// FP8 E4M3 ("e4m3fn") per-element arithmetic, written once: the CPU kernels (cpu/fp8_kernel.inc: the
// scalar code and every constant of its AVX2 code), the CUDA kernels (cuda/fp8_quantize.cu, the GEMM
// tiles) and the CUDA kernels' host twins all use it. Without __CUDACC__ this is plain C++17; the codec
// self-test (testkit) still runs encode on all 2^32 float bit patterns, decode on all 256 codes, and tile
// scales and x / s on sampled values against the CPU kernels, portable and AVX2.
//
// The arithmetic: integer operations on the float bits (clamp to 448, round the significand to 3 bits
// half-to-even in the normal range, |x| to a multiple of 2^-9 in the subnormal range). The only
// floating-point operations are the tile scale max(amax, 1e-4f) / 448f, x / s and the subnormal decode
// m * 2^-9 (exact); on the device they are the correctly rounded __fdiv_rn / __fmul_rn, on the host IEEE
// float division and multiplication, so both round the same way whatever nvcc's -prec-div / -ftz /
// --fmad settings are.
#pragma once

#include <stdint.h>

#include "bits.cuh"  // MOE_HD_LOCAL: the CPU library compiles this header into its portable and AVX2 kernels

namespace moe {
namespace fp8 {

constexpr uint32_t kE4m3AbsMask = 0x7fffffffu;
constexpr uint32_t kE4m3InfBits = 0x7f800000u;
constexpr uint32_t kE4m3MaxBits = 0x43e00000u;   // 448.0f, the largest finite E4M3 value
constexpr uint32_t kE4m3MinNormal = 121u << 23;  // 2^-6, the smallest normal E4M3 value
constexpr uint32_t kE4m3NanCode = 0x7fu;
constexpr uint32_t kE4m3MaxCode = 0x7eu;
constexpr uint32_t kE4m3QuietNan = 0x7fc00000u;  // Java's Float.NaN
constexpr int kE4m3TileCols = 128;

MOE_HD_LOCAL uint32_t e4m3_bits_of(float f) { return float_to_bits(f); }

MOE_HD_LOCAL float e4m3_float_of(uint32_t b) { return bits_to_float(b); }

}  // namespace fp8
}  // namespace moe

// E4M3 code of x: round to nearest, ties to even, after clamping |x| to 448; NaN -> 0x7F; -0 -> 0x80.
MOE_HD_LOCAL uint8_t moe_e4m3_encode(float x) {
    using namespace moe::fp8;
    const uint32_t b = e4m3_bits_of(x);
    const uint32_t sign = (b >> 24) & 0x80u;
    const uint32_t a = b & kE4m3AbsMask;
    if (a > kE4m3InfBits) return static_cast<uint8_t>(kE4m3NanCode);
    if (a >= kE4m3MaxBits) return static_cast<uint8_t>(sign | kE4m3MaxCode);
    if (a >= kE4m3MinNormal) {
        // Drop 20 significand bits with round-half-even; a carry moves into the exponent field.
        const uint32_t r = (a + 0x7ffffu + ((a >> 20) & 1u)) >> 20;
        return static_cast<uint8_t>(sign | (r - (120u << 3)));
    }
    const uint32_t e = a >> 23;
    if (e < 117u) return static_cast<uint8_t>(sign);  // |x| < 2^-10: below half the smallest step
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;   // |x| = m * 2^(e-150); |x| / 2^-9 = m / 2^(141-e)
    const uint32_t shift = 141u - e;                  // 21 .. 24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    q += (rem > half || (rem == half && (q & 1u))) ? 1u : 0u;  // q == 8 is code 0x08 = 2^-6
    return static_cast<uint8_t>(sign | q);
}

// Exact value of an E4M3 code; 0x7F and 0xFF decode to the quiet NaN 0x7FC00000.
MOE_HD_LOCAL float moe_e4m3_decode(uint8_t c) {
    using namespace moe::fp8;
    const uint32_t mag = c & 0x7fu;
    if (mag == kE4m3NanCode) return e4m3_float_of(kE4m3QuietNan);
    const uint32_t sign = static_cast<uint32_t>(c & 0x80u) << 24;
    if ((mag >> 3) == 0u) {
        // Subnormal: m * 2^-9, exact in float.
#if defined(__CUDA_ARCH__)
        const float v = __fmul_rn(static_cast<float>(mag), 0.001953125f);
#else
        const float v = static_cast<float>(mag) * 0.001953125f;
#endif
        return e4m3_float_of(e4m3_bits_of(v) | sign);
    }
    return e4m3_float_of(sign | ((mag << 20) + (120u << 23)));
}

// True when the bits of |x| (x & 0x7fffffff) are those of an infinity or a NaN.
MOE_HD_LOCAL bool moe_e4m3_abs_bits_nonfinite(uint32_t abs_bits) { return abs_bits >= moe::fp8::kE4m3InfBits; }

// Tile scale from the bits of the tile's amax (a finite non-negative float; for such floats the integer
// order of the bits is the numeric order, so amax is a max over x & 0x7fffffff):
// s = max(amax, 1e-4f) / 448f, and with pow2 s = 2^ceil(log2 s), exact from the bits (s is a positive
// normal float, so clearing the significand and adding one exponent step is exact).
MOE_HD_LOCAL float moe_e4m3_tile_scale(uint32_t amax_bits, bool pow2) {
    using namespace moe::fp8;
    const float a = e4m3_float_of(amax_bits);
    const float m = a > 1e-4f ? a : 1e-4f;
#if defined(__CUDA_ARCH__)
    float s = __fdiv_rn(m, 448.0f);
#else
    float s = m / 448.0f;
#endif
    if (pow2) {
        const uint32_t sb = e4m3_bits_of(s);
        if ((sb & 0x7fffffu) != 0u) s = e4m3_float_of((sb & 0xff800000u) + 0x800000u);
    }
    return s;
}

// Code of one tile element: encode(x / s) with an IEEE (correctly rounded) FP32 division.
MOE_HD_LOCAL uint8_t moe_e4m3_quantize1(float x, float s) {
#if defined(__CUDA_ARCH__)
    return moe_e4m3_encode(__fdiv_rn(x, s));
#else
    return moe_e4m3_encode(x / s);
#endif
}
