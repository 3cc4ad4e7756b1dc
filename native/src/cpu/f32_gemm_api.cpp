// C ABI of the FP32 GEMM batch (moe.h, moe_f32_gemm_cpu): validation and dispatch to the AVX-512, AVX2 or
// portable build of f32_gemm_kernel.inc. Compiled with baseline flags.
#include <cstdint>

#include <omp.h>

#include "cpu_features.hpp"
#include "f32_gemm.hpp"
#include "moe/moe.h"

namespace {

// Elements from the pointer to the last one a [rows, cols] view with leading dimension ld addresses.
bool reaches(int64_t count, int64_t rows, int64_t cols, int64_t ld) {
    if (rows == 0 || cols == 0) return true;
    if (ld < cols) return false;
    __int128 need = static_cast<__int128>(rows - 1) * ld + cols;
    return need <= count;
}

void run(const moe::F32GemmArgs& g, bool parallel) {
    const int32_t kernel = moe::cpu_kernel();
    if (kernel >= MOE_CPU_KERNEL_AVX512) {
        moe::avx512::f32_gemm(g, parallel);
    } else if (kernel == MOE_CPU_KERNEL_AVX2) {
        moe::avx2::f32_gemm(g, parallel);
    } else {
        moe::portable::f32_gemm(g, parallel);
    }
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_f32_gemm_cpu(int32_t trans_a, int32_t trans_b, int64_t count, const int64_t* dims, const int64_t* offsets,
                         const float* a, int64_t lda, int64_t a_count, const float* b, int64_t ldb, int64_t b_count,
                         float beta, float* c, int64_t ldc, int64_t c_count) {
    if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1) || (beta != 0.0f && beta != 1.0f))
        return MOE_STATUS_INVALID_CONFIG;
    if (count < 0 || a_count < 0 || b_count < 0 || c_count < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (count > 0 && (dims == nullptr || offsets == nullptr)) return MOE_STATUS_NULL_POINTER;
    const bool ta = trans_a == 1;
    const bool tb = trans_b == 1;
    int64_t work = 0;
    for (int64_t i = 0; i < count; i++) {
        const int64_t m = dims[3 * i], n = dims[3 * i + 1], k = dims[3 * i + 2];
        const int64_t oa = offsets[3 * i], ob = offsets[3 * i + 1], oc = offsets[3 * i + 2];
        if (m < 0 || n < 0 || k < 0 || oa < 0 || ob < 0 || oc < 0 || oa > a_count || ob > b_count || oc > c_count)
            return MOE_STATUS_BAD_BUFFER_SIZE;
        if (!reaches(a_count - oa, ta ? k : m, ta ? m : k, lda) || !reaches(b_count - ob, tb ? n : k, tb ? k : n, ldb) ||
            !reaches(c_count - oc, m, n, ldc))
            return MOE_STATUS_BAD_BUFFER_SIZE;
        if ((m * k > 0 && a == nullptr) || (k * n > 0 && b == nullptr) || (m * n > 0 && c == nullptr))
            return MOE_STATUS_NULL_POINTER;
        work += m * n * k;
    }
    auto entry = [&](int64_t i, bool parallel) {
        run(moe::F32GemmArgs{ta, tb, dims[3 * i], dims[3 * i + 1], dims[3 * i + 2], a + offsets[3 * i], lda,
                             b + offsets[3 * i + 1], ldb, beta, c + offsets[3 * i + 2], ldc},
            parallel);
    };
    // Many products: one per thread at a time, each on one thread. Few: one after another, each on all.
    const int64_t threads = omp_get_max_threads();
    if (count >= 2 * threads && threads > 1 && work >= (int64_t(1) << 20)) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t i = 0; i < count; i++) entry(i, false);
    } else {
        for (int64_t i = 0; i < count; i++) entry(i, true);
    }
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
