// moe_testkit_fp8_codec_selftest (moe_testkit.h): the per-element arithmetic of the CUDA FP8 kernels
// (src/shared/fp8_codec.cuh, compiled here as plain C++) against the CPU codec kernels, portable and AVX2,
// bit for bit, so a build without a GPU still proves the GPU codec's arithmetic.
#include <cstdint>
#include <cstring>
#include <vector>

#include <omp.h>

#include "../src/shared/fp8_codec.cuh"
#include "../src/cpu/cpu_features.hpp"
#include "../src/cpu/fp8_kernels.hpp"
#include "moe/moe.h"
#include "moe_testkit.h"

namespace {

uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

float float_of(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

// All 2^32 float bit patterns through moe_e4m3_encode and the CPU encoders (portable, and AVX2 where
// the CPU has it), in chunks below the kernels' own OpenMP threshold.
uint64_t encode_mismatches() {
    constexpr int64_t chunk = int64_t{1} << 14;
    constexpr int64_t chunks = (int64_t{1} << 32) / chunk;
    const bool avx2 = moe::cpu_has_avx2();
    uint64_t bad = 0;
#pragma omp parallel reduction(+ : bad)
    {
        std::vector<float> in(chunk);
        std::vector<uint8_t> ref(chunk);
        std::vector<uint8_t> ref2(chunk);
#pragma omp for schedule(static)
        for (int64_t c = 0; c < chunks; ++c) {
            const uint32_t base = static_cast<uint32_t>(c * chunk);
            for (int64_t i = 0; i < chunk; ++i) in[i] = float_of(base + static_cast<uint32_t>(i));
            moe::portable::fp8_encode(in.data(), ref.data(), chunk);
            if (avx2) moe::avx2::fp8_encode(in.data(), ref2.data(), chunk);
            for (int64_t i = 0; i < chunk; ++i) {
                const uint8_t got = moe_e4m3_encode(in[i]);
                bad += got != ref[i] ? 1u : 0u;
                if (avx2) bad += got != ref2[i] ? 1u : 0u;
            }
        }
    }
    return bad;
}

uint64_t decode_mismatches() {
    uint8_t codes[256];
    float ref[256];
    for (int i = 0; i < 256; ++i) codes[i] = static_cast<uint8_t>(i);
    moe::portable::fp8_decode(codes, ref, 256);
    uint64_t bad = 0;
    for (int i = 0; i < 256; ++i) bad += bits_of(moe_e4m3_decode(codes[i])) != bits_of(ref[i]) ? 1u : 0u;
    return bad;
}

// Tile scales (pow2 off and on) and the codes of x / s: one 1x128 tile per amax value, each holding
// +-amax and values spread below it, quantised by the CPU kernels (portable, and AVX2 where the CPU has
// it) and by the header's functions.
uint64_t quantize_mismatches() {
    std::vector<uint32_t> amax;
    for (uint32_t e = 0; e < 255; ++e) {
        for (uint32_t m : {0u, 1u, 2u, 3u, 0x1000u, 0x3fffffu, 0x400000u, 0x400001u, 0x7ffffeu, 0x7fffffu}) {
            amax.push_back((e << 23) | m);
        }
    }
    // amax = 448 * s for scales s with few significand bits (exact products): s is then exactly
    // representable, so pow2 must keep it only when it is a power of two.
    for (uint32_t e = 1; e < 255; ++e) {
        for (uint32_t m : {0u, 1u << 22, 1u << 21, 1u << 20, 3u << 21, 1u << 16, 1u << 4}) {
            const float a = float_of((e << 23) | m) * 448.0f;
            if (bits_of(a) < moe::fp8::kE4m3InfBits) amax.push_back(bits_of(a));
        }
    }
    const uint32_t lo = bits_of(1e-4f);  // the scale floor, and the values around it
    for (uint32_t b = lo - 2048; b <= lo + 2048; ++b) amax.push_back(b);
    const uint32_t near = bits_of(448.0f * 0.0078125f);  // scales near 2^k: amax near 448 * 2^k
    for (uint32_t b = near - 256; b <= near + 256; ++b) amax.push_back(b);
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; ++i) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        amax.push_back(static_cast<uint32_t>(state >> 33) % 0x7f800000u);
    }
    const int64_t rows = static_cast<int64_t>(amax.size());
    constexpr int64_t cols = moe::fp8::kE4m3TileCols;
    std::vector<float> x(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
        const float a = float_of(amax[r]);
        float* row = x.data() + r * cols;
        for (int64_t c = 0; c < cols; ++c) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            // |value| <= a: a times a fraction in [0, 1) with 24 random bits, random sign.
            const float f = static_cast<float>(state >> 40) * 0x1p-24f;
            const float v = a * f;
            row[c] = ((state >> 39) & 1u) != 0 ? -v : v;
        }
        if (a >= 1e-4f) {
            // Odd columns: values within an ulp of s * (a midpoint between two codes), for the scale of
            // either pow2 setting, where x / s must round exactly as on the CPU to give the same code.
            for (int64_t c = 1; c < cols; c += 2) {
                state = state * 6364136223846793005u + 1442695040888963407u;
                const float s = moe_e4m3_tile_scale(amax[r], ((c >> 1) & 1) != 0);
                const uint8_t k = static_cast<uint8_t>((state >> 40) % 0x75u);  // midpoints <= 216
                const float t = (moe_e4m3_decode(k) + moe_e4m3_decode(static_cast<uint8_t>(k + 1))) * 0.5f;
                const uint32_t v = bits_of(t * s) + static_cast<uint32_t>((state >> 36) % 3u) - 1u;
                row[c] = float_of(((state >> 35) & 1u) != 0 ? v | 0x80000000u : v);
            }
        }
        row[(amax[r] >> 3) % cols] = (amax[r] & 1u) != 0 ? -a : a;
    }
    uint64_t bad = 0;
    std::vector<uint8_t> q(x.size());
    std::vector<float> s(static_cast<size_t>(rows));
    const bool avx2 = moe::cpu_has_avx2();
    for (int32_t run = 0; run < (avx2 ? 4 : 2); ++run) {
        const int32_t pow2 = run % 2;
        const moe::Fp8QuantArgs args{x.data(), rows, cols, 1, pow2 == 1, q.data(), s.data()};
        if ((run < 2 ? moe::portable::fp8_quantize(args) : moe::avx2::fp8_quantize(args)) != MOE_STATUS_OK) return UINT64_MAX;
        for (int64_t r = 0; r < rows; ++r) {
            uint32_t m = 0;
            for (int64_t c = 0; c < cols; ++c) {
                const uint32_t a = bits_of(x[r * cols + c]) & moe::fp8::kE4m3AbsMask;
                m = a > m ? a : m;
            }
            const float scale = moe_e4m3_tile_scale(m, pow2 == 1);
            bad += bits_of(scale) != bits_of(s[r]) ? 1u : 0u;
            for (int64_t c = 0; c < cols; ++c) {
                bad += moe_e4m3_quantize1(x[r * cols + c], scale) != q[r * cols + c] ? 1u : 0u;
            }
        }
    }
    return bad;
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_testkit_fp8_codec_selftest(uint64_t* mismatches) {
    if (mismatches == nullptr) return MOE_STATUS_NULL_POINTER;
    const uint64_t q = quantize_mismatches();
    if (q == UINT64_MAX) return MOE_STATUS_INTERNAL_ERROR;
    *mismatches = decode_mismatches() + q + encode_mismatches();
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
