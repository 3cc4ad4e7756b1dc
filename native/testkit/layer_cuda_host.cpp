// moe_testkit_layer_forward_cuda_host (moe_testkit.h): the GPU MoE layer pipeline (shared/moe_layer.cuh)
// run on the host with an executor that runs each kernel's per-thread code block
// by block, in the order its barriers impose, so that tests prove the pipeline against
// dev.moe.layer.MoeLayer without a GPU. Single-threaded; for testing, not speed.
#include <cstdint>
#include <vector>

#include "../src/shared/fp8_codec.cuh"
#include "../src/shared/moe_layer.cuh"
#include "cuda_host.hpp"
#include "moe/moe.h"
#include "moe_testkit.h"

namespace {

namespace L = moe::layer;
namespace g = moe::fp8gemm;

struct HostExec {
    float lut[256];

    HostExec() { g::host_lut(lut); }

    int32_t start(int64_t* diagnostics) {
        diagnostics[0] = L::kNoBadRow;
        diagnostics[1] = diagnostics[2] = diagnostics[3] = 0;
        return MOE_STATUS_OK;
    }

    int32_t logits(const L::Shape& s, const float* x, const float* w, float* out) {
        float xs[L::kLogitK][L::kLogitTile];
        float ws[L::kLogitK][L::kLogitTile];
        std::vector<L::LogitAccum> acc(L::kThreads);
        for (int64_t t0 = 0; t0 < s.t; t0 += L::kLogitTile) {
            for (int64_t e0 = 0; e0 < s.n; e0 += L::kLogitTile) {
                for (auto& a : acc) a = L::LogitAccum{};
                for (int64_t h0 = 0; h0 < s.h; h0 += L::kLogitK) {
                    for (int tid = 0; tid < L::kThreads; ++tid) L::logits_load(x, w, s, t0, e0, h0, tid, xs, ws);
                    const int len = static_cast<int>(s.h - h0 < L::kLogitK ? s.h - h0 : L::kLogitK);
                    for (int tid = 0; tid < L::kThreads; ++tid) L::logits_compute(tid, len, xs, ws, acc[tid]);
                }
                for (int tid = 0; tid < L::kThreads; ++tid) L::logits_store(s, t0, e0, tid, acc[tid], out);
            }
        }
        return MOE_STATUS_OK;
    }

    int32_t gate(const moe_gate_config& c, const L::Shape& s, const float* logits, const float* bias, int32_t* ids,
                 float* weights, int64_t* load, int64_t* diagnostics) {
        moe_gate_stats st{};
        const int32_t r = moe_testkit_gate_cuda_host(&c, logits, s.t * s.n, bias, bias != nullptr ? s.n : 0, s.t, ids, s.t * s.k,
                                             weights, s.t * s.k, load, load != nullptr ? s.n : 0, &st);
        if (st.first_bad_row >= 0) diagnostics[0] = st.first_bad_row;
        diagnostics[1] = st.zero_sum_rows;
        return r;
    }

    // The 1x128 quantisation kernel's arithmetic (fp8_codec.cuh), tile by tile.
    int32_t quantize_rows(const float* x, int64_t rows, int64_t cols, uint8_t* q, float* scales, int32_t* flag) {
        const int64_t tiles = g::chunks(cols);
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t t = 0; t < tiles; ++t) {
                const int64_t c0 = t * g::kChunk;
                const int64_t c1 = c0 + g::kChunk < cols ? c0 + g::kChunk : cols;
                uint32_t m = 0;
                for (int64_t c = c0; c < c1; ++c) {
                    const uint32_t a = moe::float_to_bits(x[r * cols + c]) & moe::fp8::kE4m3AbsMask;
                    if (moe_e4m3_abs_bits_nonfinite(a)) {
                        *flag = 1;
                        return MOE_STATUS_NON_FINITE_INPUT;
                    }
                    m = a > m ? a : m;
                }
                const float sc = moe_e4m3_tile_scale(m, false);
                scales[r * tiles + t] = sc;
                for (int64_t c = c0; c < c1; ++c) q[r * cols + c] = moe_e4m3_quantize1(x[r * cols + c], sc);
            }
        }
        return MOE_STATUS_OK;
    }

    int32_t plan(const L::Shape& s, const int32_t* ids, int32_t* counts, int64_t* offsets, int64_t* tiles, int32_t* row_of) {
        for (int64_t c = 0; c < s.plan_chunks(); ++c)
            for (int64_t e = 0; e < s.n; ++e) L::plan_count(ids, s, c, e, counts);
        for (int64_t e = 0; e < s.n; ++e) L::plan_scan_expert(s, e, counts, offsets + 1);
        L::plan_offsets(s, offsets, tiles);
        for (int64_t c = 0; c < s.plan_chunks(); ++c)
            for (int64_t e = 0; e < s.n; ++e) L::plan_rank(ids, s, c, e, counts, offsets, row_of);
        return MOE_STATUS_OK;
    }

    int32_t gather(const L::Shape& s, const uint8_t* xq, const float* xqs, const int32_t* row_of, uint8_t* xp, float* xps) {
        for (int64_t a = 0; a < s.rows(); ++a) {
            for (int64_t c = 0; c < s.h; ++c) L::gather_bytes(s, a, c, xq, row_of, xp);
            for (int64_t c = 0; c < g::chunks(s.h); ++c) L::gather_scale(s, a, c, xqs, row_of, xps);
        }
        return MOE_STATUS_OK;
    }

    int32_t grouped_gemm(const L::Shape& s, int64_t rows, int64_t n, int64_t k, const int64_t* offsets, const int64_t* tiles,
                         const uint8_t* a, const float* sa, const uint8_t* b, const float* sb, float* c) {
        const g::Problem base{0, n, k, a, sa, b, sb, c};
        if (s.wgmma) {
            return moe::fp8wgmma::pipe::host_run(moe::fp8wgmma::pipe::routed_schedule(base, s.n, rows, offsets, tiles + s.n + 1), s.n);
        }
        const int64_t row_tiles = L::ceil_div(rows, g::kBm) + s.n;  // the device grid
        for (int64_t tile = 0; tile < row_tiles; ++tile) {
            g::Problem p;
            int64_t row0;
            if (!L::grouped_tile(base, offsets, tiles, s.n, tile, &p, &row0)) continue;
            for (int64_t col0 = 0; col0 < n; col0 += g::kBn) run_tile(s, p, row0, col0);
        }
        return MOE_STATUS_OK;
    }

    int32_t gemm(const L::Shape& s, int64_t m, int64_t n, int64_t k, const uint8_t* a, const float* sa, const uint8_t* b,
                 const float* sb, float* c) {
        const g::Problem p{m, n, k, a, sa, b, sb, c};
        if (s.wgmma) return moe::fp8wgmma::pipe::host_run(moe::fp8wgmma::pipe::dense_schedule(p), 1);
        for (int64_t row0 = 0; row0 < m; row0 += g::kBm)
            for (int64_t col0 = 0; col0 < n; col0 += g::kBn) run_tile(s, p, row0, col0);
        return MOE_STATUS_OK;
    }

    // The exact or the tensor-core kernel's tile (both 64 x 64).
    void run_tile(const L::Shape& s, const g::Problem& p, int64_t row0, int64_t col0) {
        if (s.tc) {
            moe::fp8mma::host_tile_mma(p, row0, col0, lut, false);
        } else {
            g::host_tile(p, row0, col0, lut);
        }
    }

    int32_t swiglu(int64_t bound, int64_t width, const int64_t* rows_at, const float* h13, float* act) {
        const int64_t rows = rows_at != nullptr ? *rows_at : bound;
        for (int64_t r = 0; r < bound; ++r)
            for (int64_t c = 0; c < width; ++c) L::swiglu_at(r, c, rows, width, h13, act);
        return MOE_STATUS_OK;
    }

    int32_t combine(const L::Shape& s, const float* w, const int32_t* row_of, const float* y, const float* shared, float* out) {
        for (int64_t t = 0; t < s.t; ++t)
            for (int64_t c = 0; c < s.h; ++c) L::combine_at(s, t, c, w, row_of, y, shared, out);
        return MOE_STATUS_OK;
    }
};

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_testkit_layer_forward_cuda_host(const moe_layer_args* args) {
    L::Shape s;
    if (const int32_t st = L::shape_of(args, &s); st != MOE_STATUS_OK) return st;
    if (const int32_t st = L::check_pointers(*args, s); st != MOE_STATUS_OK) return st;
    HostExec ex;
    return L::forward(ex, *args, s);
}

}  // extern "C"
#pragma GCC visibility pop
