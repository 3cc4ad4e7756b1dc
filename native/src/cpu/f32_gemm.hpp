// Internal interface between the FP32 GEMM entry (validation, dispatch) and its three compiled variants.
// Not part of the ABI.
#pragma once
#include <cstdint>

namespace moe {

// C[m, n] = beta * C + op(A) * op(B), row-major: op(A)(i, p) = trans_a ? a[p * lda + i] : a[i * lda + p],
// op(B)(p, j) = trans_b ? b[j * ldb + p] : b[p * ldb + j]; beta is 0 (C overwritten, never read) or 1.
// Each element sums its k products in blocks of kF32Kc along k, in order, so the result does not depend
// on the thread count.
struct F32GemmArgs {
    bool trans_a, trans_b;
    int64_t m, n, k;
    const float* a;
    int64_t lda;
    const float* b;
    int64_t ldb;
    float beta;
    float* c;
    int64_t ldc;
};

constexpr int64_t kF32Kc = 256;

// parallel: whether the product may use the OpenMP team (false inside an already parallel batch).
namespace portable { void f32_gemm(const F32GemmArgs& g, bool parallel); }
namespace avx2 { void f32_gemm(const F32GemmArgs& g, bool parallel); }
namespace avx512 { void f32_gemm(const F32GemmArgs& g, bool parallel); }

}  // namespace moe
