// Internal interface between fp8_gemm_api.cpp (validation, dispatch) and the compiled variants
// of the FP8 block-scaled GEMM. Not part of the ABI.
#pragma once
#include <cstdint>

namespace moe {

// C[m, n] = sum over K-chunks c of (sum_{k in c} A[m, k] * B[n, k]) * (sa[m, c] * sb[n / 128, c])
// with A, B E4M3 codes (no NaN codes), chunks of 128 along K, FP32 accumulation; C is overwritten.
struct GemmArgs {
    int64_t m, n, k;
    const uint8_t* a;    // [m, k]
    const float* sa;     // [m, ceil(k / 128)]
    const uint8_t* b;    // [n, k]
    const float* sb;     // [ceil(n / 128), ceil(k / 128)]
    float* c;            // [m, n]
};

constexpr int64_t kFp8Block = 128;

inline int64_t fp8_blocks(int64_t x) { return (x + kFp8Block - 1) / kFp8Block; }

// Runs a batch of independent problems (one for a dense GEMM, the experts of a grouped one) in one
// parallel region; problems with m == 0 or n == 0 cost nothing.
namespace portable { void fp8_gemm_batch(const GemmArgs* problems, int64_t count); }
namespace avx2 { void fp8_gemm_batch(const GemmArgs* problems, int64_t count); }
namespace avx512 { void fp8_gemm_batch(const GemmArgs* problems, int64_t count); }
namespace avx512bf16 { void fp8_gemm_batch(const GemmArgs* problems, int64_t count); }

}  // namespace moe
