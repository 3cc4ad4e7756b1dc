// C ABI of the FP8 block-scaled GEMMs (moe.h): validation, grouping, and dispatch to the AVX2 or
// portable build of fp8_gemm_kernel.inc. Compiled with baseline flags.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fp8_gemm.hpp"
#include "moe/moe.h"

namespace {

using moe::GemmArgs;
using moe::fp8_blocks;

bool product_is(int64_t count, int64_t a, int64_t b, int64_t c = 1) {
    if (a < 0 || b < 0 || c < 0) return false;
    __int128 p = static_cast<__int128>(a) * b * c;
    return p == count;
}

bool all_finite(const float* v, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
        if (!std::isfinite(v[i])) return false;
    return true;
}

void run(const GemmArgs* problems, int64_t count) {
    if (moe_cpu_kernel() == MOE_CPU_KERNEL_AVX2) {
        moe::avx2::fp8_gemm_batch(problems, count);
    } else {
        moe::portable::fp8_gemm_batch(problems, count);
    }
}

// Shared checks of one problem's buffers: counts, pointers, finite scales.
int32_t check(int64_t rows, int64_t n, int64_t k, int64_t groups, const uint8_t* a, int64_t a_count,
              const float* sa, int64_t sa_count, const uint8_t* b, int64_t b_count, const float* sb,
              int64_t sb_count, const float* c, int64_t c_count) {
    if (rows < 0 || n < 0 || k < 0 || groups < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t kc = fp8_blocks(k);
    if (!product_is(a_count, rows, k) || !product_is(sa_count, rows, kc) || !product_is(b_count, groups, n, k) ||
        !product_is(sb_count, groups, fp8_blocks(n), kc) || !product_is(c_count, rows, n))
        return MOE_STATUS_BAD_BUFFER_SIZE;
    if ((a_count > 0 && a == nullptr) || (sa_count > 0 && sa == nullptr) || (b_count > 0 && b == nullptr) ||
        (sb_count > 0 && sb == nullptr) || (c_count > 0 && c == nullptr))
        return MOE_STATUS_NULL_POINTER;
    if (!all_finite(sa, sa_count) || !all_finite(sb, sb_count)) return MOE_STATUS_NON_FINITE_INPUT;
    return MOE_STATUS_OK;
}

}  // namespace

#pragma GCC visibility push(default)  // the library builds with hidden visibility; export the ABI
extern "C" {

int32_t moe_fp8_gemm_cpu(int64_t m, int64_t n, int64_t k,
                         const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                         const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                         float* c, int64_t c_count) {
    const int32_t s = check(m, n, k, 1, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count, c,
                            c_count);
    if (s != MOE_STATUS_OK) return s;
    const GemmArgs g{m, n, k, a, a_scales, b, b_scales, c};
    run(&g, 1);
    return MOE_STATUS_OK;
}

int32_t moe_fp8_grouped_gemm_contiguous_cpu(int64_t num_groups, const int64_t* offsets, int64_t offsets_count,
                                            int64_t n, int64_t k,
                                            const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                            const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                            float* c, int64_t c_count) {
    if (num_groups < 0 || offsets_count != num_groups + 1) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (offsets == nullptr) return MOE_STATUS_NULL_POINTER;
    if (offsets[0] != 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    for (int64_t e = 0; e < num_groups; ++e)
        if (offsets[e + 1] < offsets[e]) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t rows = offsets[num_groups];
    const int32_t s = check(rows, n, k, num_groups, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                            b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    const int64_t kc = fp8_blocks(k);
    const int64_t b_stride = n * k;
    const int64_t sb_stride = fp8_blocks(n) * kc;
    std::vector<GemmArgs> problems;
    for (int64_t e = 0; e < num_groups; ++e) {
        const int64_t r0 = offsets[e];
        if (offsets[e + 1] > r0)
            problems.push_back(GemmArgs{offsets[e + 1] - r0, n, k, a + r0 * k, a_scales + r0 * kc, b + e * b_stride,
                                        b_scales + e * sb_stride, c + r0 * n});
    }
    run(problems.data(), static_cast<int64_t>(problems.size()));
    return MOE_STATUS_OK;
}

int32_t moe_fp8_grouped_gemm_masked_cpu(int64_t num_groups, int64_t max_m, const int32_t* counts, int64_t counts_count,
                                        int64_t n, int64_t k,
                                        const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                        const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                        float* c, int64_t c_count) {
    if (num_groups < 0 || max_m < 0 || counts_count != num_groups) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (num_groups > 0 && counts == nullptr) return MOE_STATUS_NULL_POINTER;
    for (int64_t e = 0; e < num_groups; ++e)
        if (counts[e] < 0 || counts[e] > max_m) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (num_groups > 0 && max_m > INT64_MAX / num_groups) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int32_t s = check(num_groups * max_m, n, k, num_groups, a, a_count, a_scales, a_scales_count, b, b_count,
                            b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    const int64_t kc = fp8_blocks(k);
    std::vector<GemmArgs> problems;
    for (int64_t e = 0; e < num_groups; ++e) {
        const int64_t r0 = e * max_m;
        if (counts[e] > 0)
            problems.push_back(GemmArgs{counts[e], n, k, a + r0 * k, a_scales + r0 * kc, b + e * n * k,
                                        b_scales + e * fp8_blocks(n) * kc, c + r0 * n});
        // Slots past the count hold no token: defined zeros rather than stale memory.
        std::memset(c + (r0 + counts[e]) * n, 0, static_cast<size_t>((max_m - counts[e]) * n) * sizeof(float));
    }
    run(problems.data(), static_cast<int64_t>(problems.size()));
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
