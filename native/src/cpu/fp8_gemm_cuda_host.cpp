// moe_fp8_gemm_cuda_host (moe.h): the CUDA FP8 GEMM's block code (shared/fp8_gemm_tile.cuh) run on the
// host, phase by phase and thread by thread as the kernel runs it between barriers, so that tests prove
// the GPU arithmetic and indexing on machines without a GPU. Single-threaded; for testing, not speed.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../shared/fp8_gemm_tile.cuh"
#include "cuda_host.hpp"
#include "moe/moe.h"

namespace g = moe::fp8gemm;

namespace moe {
namespace fp8gemm {

void host_lut(float* lut) {
    for (int code = 0; code < 256; ++code) lut[code] = moe_e4m3_decode(static_cast<uint8_t>(code));
}

void host_tile(const Problem& p, int64_t row0, int64_t col0, const float* lut) {
    float as[kBk][kBm];  // the shared-memory tiles of one block
    float bs[kBk][kBn];
    std::vector<Accum> threads(kThreads);
    for (auto& t : threads) clear(t);
    for (int64_t ch = 0; ch < chunks(p.k); ++ch) {
        for (int64_t k0 = ch * kChunk; k0 < p.k && k0 < (ch + 1) * kChunk; k0 += kBk) {
            for (int tid = 0; tid < kThreads; ++tid) load(p, row0, col0, k0, tid, lut, as, bs);
            const int len = slice_len(p, k0);
            for (int tid = 0; tid < kThreads; ++tid) compute(tid, len, as, bs, threads[tid]);
        }
        for (int tid = 0; tid < kThreads; ++tid) promote(p, row0, col0, ch, tid, threads[tid]);
    }
    for (int tid = 0; tid < kThreads; ++tid) store(p, row0, col0, tid, threads[tid]);
}

}  // namespace fp8gemm
}  // namespace moe

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_gemm_cuda_host(int64_t m, int64_t n, int64_t k,
                               const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                               const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                               float* c, int64_t c_count) {
    const int32_t s = g::check_counts(m, n, k, 1, a, a_count, a_scales, a_scales_count, b, b_count, b_scales,
                                      b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    for (int64_t i = 0; i < a_scales_count; ++i)
        if (!std::isfinite(a_scales[i])) return MOE_STATUS_NON_FINITE_INPUT;
    for (int64_t i = 0; i < b_scales_count; ++i)
        if (!std::isfinite(b_scales[i])) return MOE_STATUS_NON_FINITE_INPUT;
    const g::Problem p{m, n, k, a, a_scales, b, b_scales, c};
    float lut[256];
    g::host_lut(lut);
    for (int64_t row0 = 0; row0 < m; row0 += g::kBm)
        for (int64_t col0 = 0; col0 < n; col0 += g::kBn) g::host_tile(p, row0, col0, lut);
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
