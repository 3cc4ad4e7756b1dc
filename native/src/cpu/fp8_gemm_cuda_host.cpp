// moe_fp8_gemm_cuda_host (moe.h): the CUDA FP8 GEMM's block code (shared/fp8_gemm_tile.cuh) run on the
// host, phase by phase and thread by thread as the kernel runs it between barriers, so that tests prove
// the GPU arithmetic and indexing on machines without a GPU. Single-threaded; for testing, not speed.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../shared/fp8_gemm_groups.cuh"
#include "../shared/fp8_gemm_mma.cuh"
#include "../shared/fp8_gemm_wgmma.cuh"
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

int32_t host_checks(int64_t m, int64_t n, int64_t k, const uint8_t* a, int64_t a_count, const float* a_scales,
                    int64_t a_scales_count, const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                    const float* c, int64_t c_count) {
    const int32_t s = check_counts(m, n, k, 1, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count, c,
                                   c_count);
    if (s != MOE_STATUS_OK) return s;
    for (int64_t i = 0; i < a_scales_count; ++i)
        if (!std::isfinite(a_scales[i])) return MOE_STATUS_NON_FINITE_INPUT;
    for (int64_t i = 0; i < b_scales_count; ++i)
        if (!std::isfinite(b_scales[i])) return MOE_STATUS_NON_FINITE_INPUT;
    return MOE_STATUS_OK;
}

int32_t host_dense(int64_t m, int64_t n, int64_t k, const uint8_t* a, int64_t a_count, const float* a_scales,
                   int64_t a_scales_count, const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                   float* c, int64_t c_count, int64_t tile_m, int64_t tile_n,
                   const std::function<bool(const Problem&, int64_t, int64_t, const float*)>& tile) {
    const int32_t s = host_checks(m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count, c,
                                  c_count);
    if (s != MOE_STATUS_OK) return s;
    const Problem p{m, n, k, a, a_scales, b, b_scales, c};
    float lut[256];
    host_lut(lut);
    for (int64_t row0 = 0; row0 < m; row0 += tile_m)
        for (int64_t col0 = 0; col0 < n; col0 += tile_n)
            if (!tile(p, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
    return MOE_STATUS_OK;
}

}  // namespace fp8gemm

namespace fp8mma {
namespace {

// mma.sync.m16n8k32.row.col.f32.e4m3.e4m3.f32 for one warp, from the PTX fragment layout (see
// fp8_gemm_mma.cuh): d[lane] += A(16x32) * B(32x8) with each output's 32 products added in increasing k.
void mma_warp_host(float (*d)[4], const uint32_t (*a)[4], const uint32_t (*b)[2], const float* lut) {
    const auto byte = [](uint32_t reg, int j) { return static_cast<uint8_t>(reg >> (8 * j)); };
    for (int r = 0; r < 16; ++r) {
        for (int c = 0; c < 8; ++c) {
            float& out = d[(r % 8) * 4 + c / 2][(r >= 8 ? 2 : 0) + (c & 1)];
            float sum = out;
            for (int k = 0; k < 32; ++k) {
                const int t = (k % 16) / 4;
                const float av = lut[byte(a[(r % 8) * 4 + t][(r >= 8 ? 1 : 0) + (k >= 16 ? 2 : 0)], k % 4)];
                const float bv = lut[byte(b[c * 4 + t][k >= 16 ? 1 : 0], k % 4)];
                sum = sum + av * bv;
            }
            out = sum;
        }
    }
}

// mma.sync.m16n8k16.row.col.f32.bf16.bf16.f32 for one warp (the sm_80 path), likewise in increasing k.
void mma_bf16_warp_host(float (*d)[4], const uint32_t (*a)[4], const uint32_t (*b)[2]) {
    const auto half = [](uint32_t reg, int j) { return moe::bits_to_float((j == 0 ? reg << 16 : reg & 0xffff0000u)); };
    for (int r = 0; r < 16; ++r) {
        for (int c = 0; c < 8; ++c) {
            float& out = d[(r % 8) * 4 + c / 2][(r >= 8 ? 2 : 0) + (c & 1)];
            float sum = out;
            for (int k = 0; k < 16; ++k) {
                const int t = (k % 8) / 2;
                const float av = half(a[(r % 8) * 4 + t][(r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k % 2);
                const float bv = half(b[c * 4 + t][k >= 8 ? 1 : 0], k % 2);
                sum = sum + av * bv;
            }
            out = sum;
        }
    }
}

}  // namespace

void host_tile_mma(const Problem& p, int64_t row0, int64_t col0, const float* lut, bool bf16) {
    static thread_local uint8_t as[kBm][kStride];
    static thread_local uint8_t bs[kBn][kStride];
    std::vector<Lane> lanes(kThreads);
    for (auto& l : lanes) clear(l);
    // One warp's MMA on tile (mi, ni): gather the lanes' accumulators, emulate, scatter.
    const auto mma = [&lanes](int w, int mi, int ni, const uint32_t (*a)[4], const uint32_t (*b)[2], const float* lut_or_null) {
        float d[32][4];
        for (int lane = 0; lane < 32; ++lane)
            for (int r = 0; r < 4; ++r) d[lane][r] = lanes[w * 32 + lane].part[mi][ni][r];
        if (lut_or_null != nullptr) {
            mma_warp_host(d, a, b, lut_or_null);
        } else {
            mma_bf16_warp_host(d, a, b);
        }
        for (int lane = 0; lane < 32; ++lane)
            for (int r = 0; r < 4; ++r) lanes[w * 32 + lane].part[mi][ni][r] = d[lane][r];
    };
    for (int64_t ch = 0; ch < fp8gemm::chunks(p.k); ++ch) {
        for (int tid = 0; tid < kThreads; ++tid) stage(p, row0, col0, ch * kChunk, tid, as, bs);
        for (int kk = 0; kk < kChunk / 32; ++kk) {
            for (int w = 0; w < kWarps; ++w) {
                for (int h = 0; h < (bf16 ? 2 : 1); ++h) {
                    uint32_t a[kMi][32][4];
                    uint32_t b[kNi][32][2];
                    for (int lane = 0; lane < 32; ++lane) {
                        for (int mi = 0; mi < kMi; ++mi) {
                            if (bf16) frag_a_bf16(as, lut, w / 2, mi, kk, h, lane, a[mi][lane]);
                            else frag_a(as, w / 2, mi, kk, lane, a[mi][lane]);
                        }
                        for (int ni = 0; ni < kNi; ++ni) {
                            if (bf16) frag_b_bf16(bs, lut, w % 2, ni, kk, h, lane, b[ni][lane]);
                            else frag_b(bs, w % 2, ni, kk, lane, b[ni][lane]);
                        }
                    }
                    for (int mi = 0; mi < kMi; ++mi)
                        for (int ni = 0; ni < kNi; ++ni) mma(w, mi, ni, a[mi], b[ni], bf16 ? nullptr : lut);
                }
            }
        }
        for (int tid = 0; tid < kThreads; ++tid) promote(p, row0, col0, ch, tid / 32, tid % 32, lanes[tid]);
    }
    for (int tid = 0; tid < kThreads; ++tid) store(p, row0, col0, tid / 32, tid % 32, lanes[tid]);
}

}  // namespace fp8mma
}  // namespace moe

namespace {

// A CUDA GEMM kernel as the host twins run it: its block tile (64 rows x cols), threads, and tile runner.
struct HostKernel {
    bool valid;
    int64_t cols;
    int threads;
    bool (*tile)(const g::Problem&, int64_t, int64_t, const float*);
};

HostKernel host_kernel(int32_t kernel) {
    switch (kernel) {
        case MOE_CUDA_GEMM_EXACT:
            return {true, g::kBn, g::kThreads, [](const g::Problem& p, int64_t r, int64_t c, const float* lut) {
                        g::host_tile(p, r, c, lut);
                        return true;
                    }};
        case MOE_CUDA_GEMM_MMA_E4M3:
            return {true, moe::fp8mma::kBn, moe::fp8mma::kThreads, [](const g::Problem& p, int64_t r, int64_t c, const float* lut) {
                        moe::fp8mma::host_tile_mma(p, r, c, lut, false);
                        return true;
                    }};
        case MOE_CUDA_GEMM_MMA_BF16:
            return {true, moe::fp8mma::kBn, moe::fp8mma::kThreads, [](const g::Problem& p, int64_t r, int64_t c, const float* lut) {
                        moe::fp8mma::host_tile_mma(p, r, c, lut, true);
                        return true;
                    }};
        case MOE_CUDA_GEMM_WGMMA:
            return {true, moe::fp8wgmma::kBn, moe::fp8wgmma::kThreads, moe::fp8wgmma::host_tile_wgmma};
        default:
            return {false, 0, 0, nullptr};
    }
}

namespace pp = moe::fp8wgmma::pipe;

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_gemm_cuda_host(int64_t m, int64_t n, int64_t k,
                               const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                               const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                               float* c, int64_t c_count) {
    return g::host_dense(m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count, c, c_count,
                         g::kBm, g::kBn, [](const g::Problem& p, int64_t row0, int64_t col0, const float* lut) {
                             g::host_tile(p, row0, col0, lut);
                             return true;
                         });
}

int32_t moe_fp8_gemm_cuda_tc_host(int32_t kernel, int64_t m, int64_t n, int64_t k,
                                  const uint8_t* a, int64_t a_count, const float* a_scales, int64_t a_scales_count,
                                  const uint8_t* b, int64_t b_count, const float* b_scales, int64_t b_scales_count,
                                  float* c, int64_t c_count) {
    if (kernel == MOE_CUDA_GEMM_WGMMA)
        return moe_fp8_gemm_cuda_wgmma_host(m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count,
                                            c, c_count);
    if (kernel == MOE_CUDA_GEMM_WGMMA_TMA) {
        const int32_t s = g::host_checks(m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count,
                                         c, c_count);
        if (s != MOE_STATUS_OK || m == 0 || n == 0) return s;
        return pp::host_run(pp::dense_schedule(g::Problem{m, n, k, a, a_scales, b, b_scales, c}), 1);
    }
    if (kernel != MOE_CUDA_GEMM_MMA_E4M3 && kernel != MOE_CUDA_GEMM_MMA_BF16) return MOE_STATUS_INVALID_CONFIG;
    const bool bf16 = kernel == MOE_CUDA_GEMM_MMA_BF16;
    return g::host_dense(m, n, k, a, a_count, a_scales, a_scales_count, b, b_count, b_scales, b_scales_count, c, c_count,
                         moe::fp8mma::kBm, moe::fp8mma::kBn,
                         [bf16](const g::Problem& p, int64_t row0, int64_t col0, const float* lut) {
                             moe::fp8mma::host_tile_mma(p, row0, col0, lut, bf16);
                             return true;
                         });
}

int32_t moe_fp8_grouped_gemm_masked_cuda_host(int32_t kernel, int64_t num_groups, int64_t max_m, const int32_t* counts,
                                              int64_t counts_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                              const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                              const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    const HostKernel hk = host_kernel(kernel);
    if (!hk.valid && kernel != MOE_CUDA_GEMM_WGMMA_TMA) return MOE_STATUS_INVALID_CONFIG;
    const int32_t s = g::check_masked(num_groups, max_m, counts, counts_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                      b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    const g::Problem base{0, n, k, a, a_scales, b, b_scales, c};
    if (kernel == MOE_CUDA_GEMM_WGMMA_TMA) {
        if (num_groups == 0 || max_m == 0 || n == 0) return MOE_STATUS_OK;
        return pp::host_run(pp::masked_schedule(base, num_groups, max_m, counts), num_groups);
    }
    float lut[256];
    g::host_lut(lut);
    const int64_t row_tiles = num_groups * ((max_m + g::kBm - 1) / g::kBm);
    for (int64_t tile = 0; tile < row_tiles; ++tile) {
        for (int64_t col0 = 0; col0 < n; col0 += hk.cols) {
            g::Problem p;
            int64_t row0, zero_from, zero_to;
            g::masked_tile(base, max_m, counts, tile, &p, &row0, &zero_from, &zero_to);
            if (row0 < p.m && !hk.tile(p, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
            for (int tid = 0; tid < hk.threads; ++tid) g::zero_rows(p, zero_from, zero_to, col0, hk.cols, tid, hk.threads);
        }
    }
    return MOE_STATUS_OK;
}

int32_t moe_fp8_grouped_gemm_contiguous_cuda_host(int32_t kernel, int64_t num_groups, const int64_t* offsets,
                                                  int64_t offsets_count, int64_t n, int64_t k, const uint8_t* a, int64_t a_count,
                                                  const float* a_scales, int64_t a_scales_count, const uint8_t* b, int64_t b_count,
                                                  const float* b_scales, int64_t b_scales_count, float* c, int64_t c_count) {
    const HostKernel hk = host_kernel(kernel);
    if (!hk.valid && kernel != MOE_CUDA_GEMM_WGMMA_TMA) return MOE_STATUS_INVALID_CONFIG;
    const int32_t s = g::check_contiguous(num_groups, offsets, offsets_count, n, k, a, a_count, a_scales, a_scales_count, b,
                                          b_count, b_scales, b_scales_count, c, c_count);
    if (s != MOE_STATUS_OK) return s;
    if (kernel == MOE_CUDA_GEMM_WGMMA_TMA) {
        if (n == 0) return MOE_STATUS_OK;
        return g::for_each_launch(
            num_groups, offsets, n, k, a, a_scales, b, b_scales, c,
            [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride, int64_t row_tiles) {
                return pp::host_run(pp::contiguous_schedule(base, groups, b_stride, sb_stride, row_tiles), groups.count);
            },
            pp::kBm);
    }
    float lut[256];
    g::host_lut(lut);
    // The launches and block mapping of the CUDA entry points, block by block.
    return g::for_each_launch(num_groups, offsets, n, k, a, a_scales, b, b_scales, c,
                              [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                  int64_t row_tiles) {
                                  for (int64_t tile = 0; tile < row_tiles; ++tile) {
                                      for (int64_t col0 = 0; col0 < n; col0 += hk.cols) {
                                          g::Problem p;
                                          int64_t row0;
                                          g::contiguous_tile(base, groups, b_stride, sb_stride, tile, &p, &row0);
                                          if (!hk.tile(p, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
                                      }
                                  }
                                  return MOE_STATUS_OK;
                              });
}

}  // extern "C"
#pragma GCC visibility pop
