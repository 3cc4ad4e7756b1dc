// C ABI of training's element-wise kernels (moe.h: moe_swiglu_cpu, moe_softmax_causal_cpu): validation,
// OpenMP over rows, dispatch to the AVX2 or portable build of train_kernel.inc. Compiled with baseline flags.
#include <atomic>
#include <cmath>
#include <cstdint>

#include <omp.h>

#include "cpu_features.hpp"
#include "moe/moe.h"
#include "train_kernels.hpp"

namespace {

// Below this many elements a call stays on the calling thread: waking the team would cost more.
constexpr int64_t kParallelElements = int64_t(1) << 15;

// rows x cols elements fit in count (no overflow: both are checked non-negative and below 2^31 first).
bool fits(int64_t count, int64_t rows, int64_t cols) {
    return static_cast<__int128>(rows) * cols <= count;
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_swiglu_cpu(int32_t backward, int64_t rows, int64_t width, const float* h13, int64_t h13_count,
                       const float* dact, int64_t dact_count, float* out, int64_t out_count) {
    if (backward != 0 && backward != 1) return MOE_STATUS_INVALID_CONFIG;
    if (rows < 0 || width < 0 || width > INT32_MAX || h13_count < 0 || dact_count < 0 || out_count < 0)
        return MOE_STATUS_BAD_BUFFER_SIZE;
    const bool bwd = backward == 1;
    if (!fits(h13_count, rows, 2 * width) || !fits(out_count, rows, bwd ? 2 * width : width) ||
        (bwd && !fits(dact_count, rows, width)))
        return MOE_STATUS_BAD_BUFFER_SIZE;
    if (rows * width == 0) return MOE_STATUS_OK;
    if (h13 == nullptr || out == nullptr || (bwd && dact == nullptr)) return MOE_STATUS_NULL_POINTER;
    const bool avx2 = moe::cpu_kernel_avx2();
    auto run = [&](int64_t r0, int64_t r1) {
        if (avx2) {
            moe::avx2::swiglu_rows(bwd, r0, r1, width, h13, dact, out);
        } else {
            moe::portable::swiglu_rows(bwd, r0, r1, width, h13, dact, out);
        }
    };
    if (rows * width < kParallelElements || omp_get_max_threads() == 1) {
        run(0, rows);
        return MOE_STATUS_OK;
    }
    constexpr int64_t kChunk = 16;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r += kChunk) run(r, r + kChunk < rows ? r + kChunk : rows);
    return MOE_STATUS_OK;
}

int32_t moe_softmax_causal_cpu(int32_t backward, int64_t count, int64_t seq, float scale, const float* probs,
                               int64_t probs_count, float* x, int64_t x_count) {
    if (backward != 0 && backward != 1) return MOE_STATUS_INVALID_CONFIG;
    if (!(std::isfinite(scale) && scale > 0.0f)) return MOE_STATUS_INVALID_CONFIG;
    if (count < 0 || seq < 0 || seq > INT32_MAX || probs_count < 0 || x_count < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    const bool bwd = backward == 1;
    const __int128 elements = static_cast<__int128>(count) * seq * seq;
    if (elements > x_count || (bwd && elements > probs_count)) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (elements == 0) return MOE_STATUS_OK;
    if (x == nullptr || (bwd && probs == nullptr)) return MOE_STATUS_NULL_POINTER;
    const bool avx2 = moe::cpu_kernel_avx2();
    const int64_t rows = count * seq;
    std::atomic<bool> finite{true};
    auto row = [&](int64_t r) {
        const int64_t n = r % seq + 1;
        float* xr = x + r * seq;
        if (bwd) {
            const float* pr = probs + r * seq;
            if (avx2) {
                moe::avx2::softmax_causal_backward_row(pr, xr, n, seq, scale);
            } else {
                moe::portable::softmax_causal_backward_row(pr, xr, n, seq, scale);
            }
        } else {
            const bool ok = avx2 ? moe::avx2::softmax_causal_row(xr, n, seq, scale)
                                 : moe::portable::softmax_causal_row(xr, n, seq, scale);
            if (!ok) finite.store(false, std::memory_order_relaxed);
        }
    };
    if (elements < kParallelElements || omp_get_max_threads() == 1) {
        for (int64_t r = 0; r < rows; ++r) row(r);
    } else {
        // Rows grow with their index (row i keeps i + 1 columns): small dynamic chunks share them evenly.
#pragma omp parallel for schedule(dynamic, 32)
        for (int64_t r = 0; r < rows; ++r) row(r);
    }
    return finite.load() ? MOE_STATUS_OK : MOE_STATUS_NON_FINITE_INPUT;
}

}  // extern "C"
#pragma GCC visibility pop
