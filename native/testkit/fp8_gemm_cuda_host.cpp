// moe_testkit_fp8_gemm_cuda_host (moe_testkit.h): moe_fp8_gemm_cuda's launches and the block code of each
// CUDA GEMM kernel (shared/fp8_gemm_*.cuh) run on the host, phase by phase and thread by thread as the
// kernel runs it between barriers, so that tests prove the GPU arithmetic and indexing on machines
// without a GPU. Single-threaded; for testing, not speed.
#include <cstdint>
#include <vector>

#include "../src/shared/fp8_gemm_args.cuh"
#include "../src/shared/fp8_gemm_groups.cuh"
#include "../src/shared/fp8_gemm_mma.cuh"
#include "../src/shared/fp8_gemm_wgmma.cuh"
#include "../src/shared/fp8_gemm_tile.cuh"
#include "cuda_host.hpp"
#include "moe/moe.h"
#include "moe_testkit.h"

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

namespace pp = moe::fp8wgmma::pipe;

// A one-block-per-tile CUDA GEMM kernel as the twin runs it: its block tile (64 rows x cols), threads, and
// tile runner (false: an internal inconsistency).
struct HostKernel {
    int64_t cols;
    int threads;
    bool (*tile)(const g::Problem&, int64_t, int64_t, const float*);
};

template <bool Bf16>
bool mma_tile(const g::Problem& p, int64_t row0, int64_t col0, const float* lut) {
    moe::fp8mma::host_tile_mma(p, row0, col0, lut, Bf16);
    return true;
}

bool exact_tile(const g::Problem& p, int64_t row0, int64_t col0, const float* lut) {
    g::host_tile(p, row0, col0, lut);
    return true;
}

HostKernel host_kernel(int32_t kernel, bool bf16) {
    switch (kernel) {
        case MOE_GEMM_KERNEL_MMA: return {moe::fp8mma::kBn, moe::fp8mma::kThreads, bf16 ? mma_tile<true> : mma_tile<false>};
        case MOE_GEMM_KERNEL_WGMMA: return {moe::fp8wgmma::kBn, moe::fp8wgmma::kThreads, moe::fp8wgmma::host_tile_wgmma};
        default: return {g::kBn, g::kThreads, exact_tile};
    }
}

// The TMA-fed wgmma kernel: its persistent launches (as moe_fp8_gemm_cuda plans them) with the roles as
// turn-taking threads.
int32_t run_pipelined(const g::Call& c) {
    const g::Problem base{c.layout == MOE_GEMM_LAYOUT_DENSE ? c.m : 0, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS:
            if (c.n == 0) return MOE_STATUS_OK;
            return g::for_each_launch(
                c.groups, c.offsets, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c,
                [&](const g::Problem& b, const g::Groups& groups, int64_t b_stride, int64_t sb_stride, int64_t row_tiles) {
                    return pp::host_run(pp::contiguous_schedule(b, groups, b_stride, sb_stride, row_tiles), groups.count);
                },
                pp::kBm);
        case MOE_GEMM_LAYOUT_GROUPED_MASKED:
            if (c.groups == 0 || c.max_m == 0 || c.n == 0) return MOE_STATUS_OK;
            return pp::host_run(pp::masked_schedule(base, c.groups, c.max_m, c.counts), c.groups);
        default:
            if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
            return pp::host_run(pp::dense_schedule(base), 1);
    }
}

// The one-block-per-tile kernels: every block of every launch, in launch order.
int32_t run_tiled(const g::Call& c, const HostKernel& hk) {
    float lut[256];
    g::host_lut(lut);
    const g::Problem base{c.layout == MOE_GEMM_LAYOUT_DENSE ? c.m : 0, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c};
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS:
            return g::for_each_launch(c.groups, c.offsets, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c,
                                      [&](const g::Problem& b, const g::Groups& groups, int64_t b_stride, int64_t sb_stride,
                                          int64_t row_tiles) {
                                          for (int64_t tile = 0; tile < row_tiles; ++tile) {
                                              for (int64_t col0 = 0; col0 < c.n; col0 += hk.cols) {
                                                  g::Problem p;
                                                  int64_t row0;
                                                  g::contiguous_tile(b, groups, b_stride, sb_stride, tile, &p, &row0);
                                                  if (!hk.tile(p, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
                                              }
                                          }
                                          return MOE_STATUS_OK;
                                      });
        case MOE_GEMM_LAYOUT_GROUPED_MASKED: {
            const int64_t row_tiles = c.groups * ((c.max_m + g::kBm - 1) / g::kBm);
            for (int64_t tile = 0; tile < row_tiles; ++tile) {
                for (int64_t col0 = 0; col0 < c.n; col0 += hk.cols) {
                    g::Problem p;
                    int64_t row0, zero_from, zero_to;
                    g::masked_tile(base, c.max_m, c.counts, tile, &p, &row0, &zero_from, &zero_to);
                    if (row0 < p.m && !hk.tile(p, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
                    for (int tid = 0; tid < hk.threads; ++tid) g::zero_rows(p, zero_from, zero_to, col0, hk.cols, tid, hk.threads);
                }
            }
            return MOE_STATUS_OK;
        }
        default:
            for (int64_t row0 = 0; row0 < c.m; row0 += g::kBm)
                for (int64_t col0 = 0; col0 < c.n; col0 += hk.cols)
                    if (!hk.tile(base, row0, col0, lut)) return MOE_STATUS_INTERNAL_ERROR;
            return MOE_STATUS_OK;
    }
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_testkit_fp8_gemm_cuda_host(const moe_fp8_gemm_args* args) {
    if (args == nullptr) return MOE_STATUS_NULL_POINTER;
    // The BF16 path of the MMA kernel is a kind only the twin takes; the checks are the CUDA call's.
    moe_fp8_gemm_args cuda_args = *args;
    const bool bf16 = args->kernel == MOE_TESTKIT_GEMM_KERNEL_MMA_BF16;
    if (bf16) cuda_args.kernel = MOE_GEMM_KERNEL_MMA;
    g::Call c;
    if (const int32_t s = g::check_call(&cuda_args, g::Entry::kHostTwin, &c); s != MOE_STATUS_OK) return s;
    if (c.kernel == MOE_GEMM_KERNEL_WGMMA_TMA) return run_pipelined(c);
    return run_tiled(c, host_kernel(c.kernel, bf16));
}

}  // extern "C"
#pragma GCC visibility pop
