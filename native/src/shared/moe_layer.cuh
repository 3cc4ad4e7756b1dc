// The MoE layer forward of moe_layer_forward_cuda (moe.h) written once for the device and the host: the
// workspace layout, the argument checks, the per-thread code of the small kernels (router logits,
// permutation plan, gather, SwiGLU, combine), and the order in which they and the gate / FP8 kernels
// run (forward<Exec>). cuda/layer.cu runs it with an executor that launches kernels; the testkit's
// layer_cuda_host.cpp with one that runs the same per-thread code block by block on the host, so that
// tests prove the GPU pipeline bit-identical to dev.moe.layer.MoeLayer on machines without a GPU.
//
// Deterministic by construction: every output element is computed by one thread in a fixed order (no
// float atomics); the permutation is a stable counting sort (per-chunk counts, a per-expert scan over
// chunks, then each expert's rows of a chunk in assignment order).
#pragma once

#include <stdint.h>

#include "bits.cuh"
#include "fp8_gemm_groups.cuh"
#include "fp8_gemm_tile.cuh"
#include "gate_token.cuh"
#include "moe/moe.h"

namespace moe {
namespace layer {

constexpr int kThreads = 256;
constexpr int kPlanChunk = 2048;  // assignments (token, k) per block of the permutation plan
constexpr int kLogitTile = 64;    // router logits: 64 tokens x 64 experts per block
constexpr int kLogitK = 32;       // h per shared-memory slice
constexpr int64_t kNoBadRow = INT64_MAX;

struct Shape {
    int64_t t, h, i, is, n, k;
    bool tc;     // tensor-core GEMMs (MOE_GEMM_KERNEL_MMA or _WGMMA_TMA)
    bool wgmma;  // ... Hopper's TMA-fed wgmma kernel (MOE_GEMM_KERNEL_WGMMA_TMA)
    MOE_HD int64_t rows() const { return t * k; }  // R: one row per (token, choice)
    MOE_HD int64_t plan_chunks() const { return (rows() + kPlanChunk - 1) / kPlanChunk; }
};

// Byte offsets into the workspace, each 256-byte aligned.
struct Layout {
    int64_t logits, xq, xqs, counts, offsets, tiles, row_of, xp, xps, h13, act, aq, aqs, y;
    int64_t sh13, sact, saq, saqs, sy;
    int64_t total;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline Layout layout_of(const Shape& s) {
    Layout l{};
    int64_t at = 0;
    const auto take = [&at](int64_t bytes) {
        const int64_t here = at;
        at += (bytes + 255) / 256 * 256;
        return here;
    };
    const int64_t r = s.rows();
    const int64_t hc = fp8gemm::chunks(s.h);
    const int64_t ic = fp8gemm::chunks(s.i);
    l.logits = take(s.t * s.n * 4);
    l.xq = take(s.t * s.h);
    l.xqs = take(s.t * hc * 4);
    l.counts = take(s.plan_chunks() * s.n * 4);
    l.offsets = take((s.n + 1) * 8);
    l.tiles = take(2 * (s.n + 1) * 8);  // the 64-row tile prefix, then the 128-row one
    l.row_of = take(r * 4);
    l.xp = take(r * s.h);
    l.xps = take(r * hc * 4);
    l.h13 = take(r * 2 * s.i * 4);
    l.act = take(r * s.i * 4);
    l.aq = take(r * s.i);
    l.aqs = take(r * ic * 4);
    l.y = take(r * s.h * 4);
    const int64_t isc = fp8gemm::chunks(s.is);
    l.sh13 = take(s.t * 2 * s.is * 4);
    l.sact = take(s.t * s.is * 4);
    l.saq = take(s.t * s.is);
    l.saqs = take(s.t * isc * 4);
    l.sy = take(s.is > 0 ? s.t * s.h * 4 : 0);
    l.total = at;
    return l;
}

// Checks the shapes (not the pointers) and gives the Shape; MOE_STATUS_OK or the failure. Bounds keep
// every byte count below 2^62 and every grid dimension in range.
inline int32_t shape_of(const moe_layer_args* a, Shape* out) {
    if (a == nullptr || out == nullptr) return MOE_STATUS_NULL_POINTER;
    if (const int32_t c = gate::check_config(&a->gate); c != MOE_STATUS_OK) return c;
    if (!gate::supported(gate::dims_of(a->gate))) return MOE_STATUS_INVALID_CONFIG;
    const int32_t kernel = a->gemm_kernel;
    if (kernel == MOE_GEMM_KERNEL_WGMMA) return MOE_STATUS_NOT_IMPLEMENTED;  // the layer runs the TMA-fed form
    const bool wgmma = kernel == MOE_GEMM_KERNEL_WGMMA_TMA;
    const int64_t lim = int64_t{1} << 24;
    if (a->tokens < 0 || a->tokens > lim || a->hidden < 1 || a->hidden > lim || a->intermediate < 1 ||
        a->intermediate > lim || a->intermediate % fp8gemm::kChunk != 0 || a->shared_intermediate < 0 ||
        a->shared_intermediate > lim || a->shared_intermediate % fp8gemm::kChunk != 0 || a->reserved != 0 ||
        (kernel != MOE_GEMM_KERNEL_EXACT && kernel != MOE_GEMM_KERNEL_MMA && !wgmma) || (wgmma && a->hidden % 16 != 0))
        return MOE_STATUS_INVALID_CONFIG;
    Shape s{a->tokens, a->hidden, a->intermediate, a->shared_intermediate, a->gate.num_experts, a->gate.topk,
            kernel != MOE_GEMM_KERNEL_EXACT, wgmma};
    // The largest buffers are [R, 2I] and [R, H] floats: keep them (and the grids) far from overflow.
    int64_t widest = 2 * s.i > s.h ? 2 * s.i : s.h;
    widest = widest > 2 * s.is ? widest : 2 * s.is;
    if (s.rows() > (int64_t{1} << 26) || static_cast<double>(s.rows()) * static_cast<double>(widest) * 4.0 > 1.15e18)
        return MOE_STATUS_INVALID_CONFIG;
    // TMA box coordinates are int32: all experts' weight rows (N x 2I for w13, N x H for w2) must be addressable.
    if (s.wgmma && (s.n * 2 * s.i >= INT32_MAX || s.n * s.h >= INT32_MAX)) return MOE_STATUS_INVALID_CONFIG;
    *out = s;
    return MOE_STATUS_OK;
}

// Pointers and workspace size of a call with a valid shape.
inline int32_t check_pointers(const moe_layer_args& a, const Shape& s) {
    if (s.t == 0) return MOE_STATUS_OK;
    if (a.x == nullptr || a.gate_weight == nullptr || a.w13 == nullptr || a.w13_scales == nullptr || a.w2 == nullptr ||
        a.w2_scales == nullptr || a.out == nullptr || a.ids == nullptr || a.weights == nullptr ||
        a.diagnostics == nullptr || a.workspace == nullptr)
        return MOE_STATUS_NULL_POINTER;
    if (s.is > 0 && (a.shared_w13 == nullptr || a.shared_w13_scales == nullptr || a.shared_w2 == nullptr ||
                     a.shared_w2_scales == nullptr))
        return MOE_STATUS_NULL_POINTER;
    if (a.workspace_bytes < layout_of(s).total || reinterpret_cast<uintptr_t>(a.workspace) % 256 != 0)
        return MOE_STATUS_BAD_BUFFER_SIZE;
    // The TMA-fed kernel reads the expert weights through tensor maps: 16-byte aligned bases.
    const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    if (s.wgmma && (!aligned(a.w13) || !aligned(a.w2))) return MOE_STATUS_BAD_BUFFER_SIZE;
    return MOE_STATUS_OK;
}

// ---- router logits: 64x64 outputs per block, 256 threads owning 4x4 each, h in slices of 32 ----

struct LogitAccum {
    float v[4][4];
};

// Thread tid stages 8 x-values and 8 gate-values of the slice [h0, h0 + 32) (zeros outside).
MOE_HD void logits_load(const float* x, const float* w, const Shape& s, int64_t t0, int64_t e0, int64_t h0, int tid,
                        float (*xs)[kLogitTile], float (*ws)[kLogitTile]) {
    const int r = tid / 4;
    const int kk0 = (tid % 4) * 8;
    for (int q = 0; q < 8; ++q) {
        const int kk = kk0 + q;
        const int64_t hg = h0 + kk;
        xs[kk][r] = (t0 + r < s.t && hg < s.h) ? x[(t0 + r) * s.h + hg] : 0.0f;
        ws[kk][r] = (e0 + r < s.n && hg < s.h) ? w[(e0 + r) * s.h + hg] : 0.0f;
    }
}

// acc = acc + x * w over the slice's valid h, increasing: the Java loop's order (no fused multiply-add).
MOE_HD void logits_compute(int tid, int hlen, const float (*xs)[kLogitTile], const float (*ws)[kLogitTile], LogitAccum& a) {
    const int ty = tid / 16;
    const int tx = tid % 16;
    for (int kk = 0; kk < hlen; ++kk)
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) a.v[i][j] = a.v[i][j] + xs[kk][ty + 16 * i] * ws[kk][tx + 16 * j];
}

MOE_HD void logits_store(const Shape& s, int64_t t0, int64_t e0, int tid, const LogitAccum& a, float* logits) {
    const int ty = tid / 16;
    const int tx = tid % 16;
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            const int64_t t = t0 + ty + 16 * i;
            const int64_t e = e0 + tx + 16 * j;
            if (t < s.t && e < s.n) logits[t * s.n + e] = a.v[i][j];
        }
}

// ---- permutation plan (stable counting sort of the assignments by expert) ----

// An assignment's expert, or -1 for an id outside [0, N) (only after a failed gate: then nothing is
// meaningful, but no memory outside the buffers is touched).
MOE_HD int32_t expert_of(const int32_t* ids, const Shape& s, int64_t a) {
    const int32_t e = ids[a];
    return (e >= 0 && e < s.n) ? e : -1;
}

// Step 1 of block c, thread e (striding by kThreads): how many assignments of chunk c chose expert e.
MOE_HD void plan_count(const int32_t* ids, const Shape& s, int64_t c, int64_t e, int32_t* counts) {
    const int64_t a0 = c * kPlanChunk;
    const int64_t a1 = a0 + kPlanChunk < s.rows() ? a0 + kPlanChunk : s.rows();
    int32_t n = 0;
    for (int64_t a = a0; a < a1; ++a) n += expert_of(ids, s, a) == e ? 1 : 0;
    counts[c * s.n + e] = n;
}

// Step 2, thread e: counts become each chunk's first row within expert e; totals[e] = e's rows.
MOE_HD void plan_scan_expert(const Shape& s, int64_t e, int32_t* counts, int64_t* totals) {
    int64_t run = 0;
    for (int64_t c = 0; c < s.plan_chunks(); ++c) {
        const int32_t n = counts[c * s.n + e];
        counts[c * s.n + e] = static_cast<int32_t>(run);
        run += n;
    }
    totals[e] = run;
}

// Step 2, one thread after the others: offsets = exclusive prefix of totals (in place: totals is
// offsets + 1), tiles = prefix of each expert's 64-row GEMM tiles, then (tiles + N + 1) of its 128-row
// ones (the TMA-fed wgmma kernel's).
MOE_HD void plan_offsets(const Shape& s, int64_t* offsets, int64_t* tiles) {
    int64_t* wide = tiles + s.n + 1;
    offsets[0] = 0;
    tiles[0] = 0;
    wide[0] = 0;
    for (int64_t e = 0; e < s.n; ++e) {
        const int64_t rows = offsets[e + 1];
        offsets[e + 1] = offsets[e] + rows;
        tiles[e + 1] = tiles[e] + (rows + fp8gemm::kBm - 1) / fp8gemm::kBm;
        wide[e + 1] = wide[e] + (rows + 2 * fp8gemm::kBm - 1) / (2 * fp8gemm::kBm);
    }
}

// Step 3 of block c, thread e: the rows of expert e's assignments in chunk c, in assignment order.
MOE_HD void plan_rank(const int32_t* ids, const Shape& s, int64_t c, int64_t e, const int32_t* counts,
                      const int64_t* offsets, int32_t* row_of) {
    const int64_t a0 = c * kPlanChunk;
    const int64_t a1 = a0 + kPlanChunk < s.rows() ? a0 + kPlanChunk : s.rows();
    int64_t row = offsets[e] + counts[c * s.n + e];
    for (int64_t a = a0; a < a1; ++a) {
        const int32_t x = expert_of(ids, s, a);
        if (x == e) row_of[a] = static_cast<int32_t>(row++);
        if (x < 0 && e == 0) row_of[a] = -1;
    }
}

// ---- gather: assignment a copies token a / K's FP8 row and scales to its row ----

MOE_HD void gather_bytes(const Shape& s, int64_t a, int64_t col, const uint8_t* xq, const int32_t* row_of, uint8_t* xp) {
    const int32_t r = row_of[a];
    if (r >= 0) xp[r * s.h + col] = xq[(a / s.k) * s.h + col];
}

MOE_HD void gather_scale(const Shape& s, int64_t a, int64_t chunk, const float* xqs, const int32_t* row_of, float* xps) {
    const int64_t hc = fp8gemm::chunks(s.h);
    const int32_t r = row_of[a];
    if (r >= 0) xps[r * hc + chunk] = xqs[(a / s.k) * hc + chunk];
}

// ---- grouped GEMM with the expert offsets in device memory ----

// Row tile `tile` (64 rows) of a grouped GEMM over the routed rows (fp8gemm::routed_tile); false for a tile
// beyond the last (the grid is sized for the worst case, R / 64 + N tiles).
MOE_HD bool grouped_tile(const fp8gemm::Problem& base, const int64_t* offsets, const int64_t* tiles, int64_t n_groups,
                         int64_t tile, fp8gemm::Problem* p, int64_t* row0) {
    return fp8gemm::routed_tile(base, offsets, tiles, n_groups, tile, fp8gemm::kBm, p, row0) >= 0;
}

// ---- SwiGLU: act = silu(a) * b, silu(a) = a * sigmoid(a), over rows [0, rows) (zeros beyond, up to bound) ----

MOE_HD void swiglu_at(int64_t r, int64_t c, int64_t rows, int64_t width, const float* h13, float* act) {
    if (r >= rows) {
        act[r * width + c] = 0.0f;
        return;
    }
    const float a = h13[r * 2 * width + c];
    const float b = h13[r * 2 * width + width + c];
    act[r * width + c] = (a * gate::sigmoid(a)) * b;
}

// ---- combine: out[t, c] = sum_k w[t, k] * y[row(t, k), c] in k order, then + shared ----

MOE_HD void combine_at(const Shape& s, int64_t t, int64_t c, const float* w, const int32_t* row_of, const float* y,
                       const float* shared, float* out) {
    float acc = 0.0f;
    for (int64_t q = 0; q < s.k; ++q) {
        const int32_t r = row_of[t * s.k + q];
        if (r >= 0) acc = acc + w[t * s.k + q] * y[r * s.h + c];
    }
    if (shared != nullptr) acc = acc + shared[t * s.h + c];
    out[t * s.h + c] = acc;
}

// ---- the pipeline ----

// Buffers of one call, resolved from the workspace.
struct Buffers {
    float* logits;
    uint8_t* xq;
    float* xqs;
    int32_t* counts;
    int64_t* offsets;
    int64_t* tiles;
    int32_t* row_of;
    uint8_t* xp;
    float* xps;
    float* h13;
    float* act;
    uint8_t* aq;
    float* aqs;
    float* y;
    float* sh13;
    float* sact;
    uint8_t* saq;
    float* saqs;
    float* sy;
};

inline Buffers buffers_of(void* workspace, const Layout& l) {
    uint8_t* w = static_cast<uint8_t*>(workspace);
    return Buffers{reinterpret_cast<float*>(w + l.logits), w + l.xq, reinterpret_cast<float*>(w + l.xqs),
                   reinterpret_cast<int32_t*>(w + l.counts), reinterpret_cast<int64_t*>(w + l.offsets),
                   reinterpret_cast<int64_t*>(w + l.tiles), reinterpret_cast<int32_t*>(w + l.row_of), w + l.xp,
                   reinterpret_cast<float*>(w + l.xps), reinterpret_cast<float*>(w + l.h13),
                   reinterpret_cast<float*>(w + l.act), w + l.aq, reinterpret_cast<float*>(w + l.aqs),
                   reinterpret_cast<float*>(w + l.y), reinterpret_cast<float*>(w + l.sh13),
                   reinterpret_cast<float*>(w + l.sact), w + l.saq, reinterpret_cast<float*>(w + l.saqs),
                   reinterpret_cast<float*>(w + l.sy)};
}

// The layer's steps in order. Exec provides: start(diagnostics), logits, gate, quantize_rows, plan, gather,
// grouped_gemm, gemm, swiglu, combine; each returns a status (the device one only launch failures). The
// routed rows' count lives in device memory (offsets[N]): kernels that depend on it take the bound R and
// read the count themselves, so nothing waits for the device.
template <class Exec>
int32_t forward(Exec& ex, const moe_layer_args& a, const Shape& s) {
    if (s.t == 0) return MOE_STATUS_OK;
    const Buffers b = buffers_of(a.workspace, layout_of(s));
    const int64_t r = s.rows();
    int32_t* flag = reinterpret_cast<int32_t*>(a.diagnostics + 2);
    int32_t st = MOE_STATUS_OK;
    const auto step = [&st](int32_t v) {
        if (st == MOE_STATUS_OK) st = v;
        return st == MOE_STATUS_OK;
    };
    if (!step(ex.start(a.diagnostics))) return st;
    if (!step(ex.logits(s, a.x, a.gate_weight, b.logits))) return st;
    if (!step(ex.gate(a.gate, s, b.logits, a.gate_bias, a.ids, a.weights, a.expert_load, a.diagnostics))) return st;
    if (!step(ex.quantize_rows(a.x, s.t, s.h, b.xq, b.xqs, flag))) return st;
    if (!step(ex.plan(s, a.ids, b.counts, b.offsets, b.tiles, b.row_of))) return st;
    if (!step(ex.gather(s, b.xq, b.xqs, b.row_of, b.xp, b.xps))) return st;
    if (!step(ex.grouped_gemm(s, r, 2 * s.i, s.h, b.offsets, b.tiles, b.xp, b.xps, a.w13, a.w13_scales, b.h13))) return st;
    if (!step(ex.swiglu(r, s.i, b.offsets + s.n, b.h13, b.act))) return st;
    if (!step(ex.quantize_rows(b.act, r, s.i, b.aq, b.aqs, flag))) return st;
    if (!step(ex.grouped_gemm(s, r, s.h, s.i, b.offsets, b.tiles, b.aq, b.aqs, a.w2, a.w2_scales, b.y))) return st;
    const float* shared = nullptr;
    if (s.is > 0) {
        // The shared expert on every token, from the same FP8 activations (a row's 1x128 tiles do not
        // depend on where the row sits, so this equals MoeLayer quantising x again).
        if (!step(ex.gemm(s, s.t, 2 * s.is, s.h, b.xq, b.xqs, a.shared_w13, a.shared_w13_scales, b.sh13))) return st;
        if (!step(ex.swiglu(s.t, s.is, nullptr, b.sh13, b.sact))) return st;
        if (!step(ex.quantize_rows(b.sact, s.t, s.is, b.saq, b.saqs, flag))) return st;
        if (!step(ex.gemm(s, s.t, s.h, s.is, b.saq, b.saqs, a.shared_w2, a.shared_w2_scales, b.sy))) return st;
        shared = b.sy;
    }
    step(ex.combine(s, a.weights, b.row_of, b.y, shared, a.out));
    return st;
}

}  // namespace layer
}  // namespace moe
