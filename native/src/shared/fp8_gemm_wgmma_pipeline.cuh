// The warp-specialised Hopper FP8 GEMM (MOE_GEMM_KERNEL_WGMMA_TMA, cuda/fp8_gemm_wgmma_tma.cu) as the code of
// its three roles, written once for the device and the host like fp8_gemm_wgmma.cuh.
//
// A persistent grid: block b walks output tiles b, b + grid, ... of 128 x 128 (rastered in bands of
// kBandRows row tiles so that concurrent blocks share A rows and B columns in L2). In each block one
// producer thread (warpgroup 0) feeds a ring of kStages shared-memory stages by TMA, one 128-wide K chunk
// of the A tile (128 rows) and of the B tile (128 rows) per stage; two consumer warpgroups (64 rows each)
// run fp8_gemm_wgmma.cuh's chunk on a stage (four m64n128k32 wgmmas into fresh registers, then the FP32
// promotion acc += part * sa * sb), so each output sees exactly the operations of the single-warpgroup
// kernel and both kernels give the same bits. Per stage a "full" mbarrier (one arrival plus the TMA
// bytes) and an "empty" one (one arrival per consumer warp) carry the hand-offs; the stage of the i-th
// chunk a role handles is i % kStages and its phase parity (i / kStages) & 1, the producer waiting on the
// opposite parity of "empty" so that the ring starts free.
//
// The roles talk to the hardware only through an Ops object: the device's (cuda/fp8_gemm_wgmma_tma.cu:
// cp.async.bulk.tensor, mbarrier and wgmma instructions, one thread's registers) and the host twin's
// (testkit/fp8_gemm_wgmma_pipeline_host.cpp: the roles as threads taking turns, barriers with the PTX phase
// rules, the TMA box copy and each wgmma emulated), so the schedule, the stage and phase bookkeeping and
// the tile mapping run, and are tested, on machines without a GPU.
#pragma once

#include <stdint.h>

#include "fp8_gemm_groups.cuh"
#include "fp8_gemm_wgmma.cuh"

namespace moe {
namespace fp8wgmma {
namespace pipe {

using fp8gemm::Groups;

constexpr int kConsumers = 2;                       // consumer warpgroups, kSlice rows each
constexpr int kSlice = fp8wgmma::kBm;               // 64: one m64 wgmma
constexpr int kBm = kConsumers * kSlice;            // 128 rows per tile
constexpr int kBn = fp8wgmma::kBn;                  // 128 columns per tile (one scale block of B)
constexpr int kThreads = 128 * (1 + kConsumers);    // producer warpgroup + consumers
constexpr int kStages = 7;                          // 7 x 32 KiB + barriers + alignment slack <= 227 KiB
constexpr int kBandRows = 8;                        // row tiles per raster band
constexpr uint32_t kATileBytes = kBm * kRowBytes;   // 16 KiB: the box of one TMA load
constexpr uint32_t kBTileBytes = kBn * kRowBytes;   // 16 KiB
constexpr uint32_t kStageBytes = kATileBytes + kBTileBytes;
constexpr uint32_t kBarrierOffset = kStages * kStageBytes;
constexpr uint32_t kSmemBytes = kBarrierOffset + 2 * kStages * 8;  // + full[] and empty[] (8-byte mbarriers)
constexpr uint32_t kEmptyArrivals = kConsumers * 4;                // lane 0 of every consumer warp
static_assert(kSlice * kRowBytes % kSmemAlign == 0 && kATileBytes % kSmemAlign == 0 && kStageBytes % kSmemAlign == 0,
              "every operand tile a descriptor points at must start a 1024-byte swizzle atom");

// kRouted: contiguous experts whose row offsets and 128-row tile prefix are in device memory (the
// GPU-resident layer computes them on the device, so the host never knows the tiles).
enum Layout : int32_t { kDense = 0, kContiguous = 1, kMasked = 2, kRouted = 3 };
static_assert(kBm == 2 * fp8gemm::kBm, "moe_layer.cuh's plan_offsets writes the routed prefix in 2 x 64-row tiles");

// What every block of one launch walks: the layout, its tile grid and the layout's parameters. The
// producer and the consumers each read the masked counts and the routed offsets themselves: those must
// not change while the kernel runs (a disagreement would hang the block, not just give wrong values).
struct Schedule {
    int32_t layout;
    Problem base;           // dense: the problem; grouped: n, k and the launch's base pointers
    int64_t row_tiles;      // kBm-row tiles
    int64_t col_tiles;      // kBn-column tiles
    int64_t b_stride;       // contiguous: codes per expert of B
    int64_t sb_stride;      // contiguous: scales per expert of B
    int64_t max_m;          // masked: rows per expert of A and C
    const int32_t* counts;  // masked: rows in use per expert, read where the kernel runs
    int64_t experts;        // routed: experts
    int64_t rows;           // routed: rows of A (a bound on the routed rows)
    const int64_t* offsets; // routed: first row of each expert, [experts + 1]
    const int64_t* prefix;  // routed: prefix of the experts' kBm-row tiles, [experts + 1]
    Groups groups;          // contiguous: the launch's experts (kBm-row tiles)
};

// One output tile: its expert's problem, its position there and in the TMA tensors, rows to zero.
struct Job {
    Problem p;
    int64_t row0, col0;           // first row and column of the tile within p
    int64_t a_row, b_row;         // first rows of the tile's boxes in the launch's A and B tensors
    int64_t zero_from, zero_to;   // masked: rows of p's C set to 0 in the tile's columns
};

MOE_HD int64_t tiles(const Schedule& s) { return s.row_tiles * s.col_tiles; }

MOE_HD int64_t ceil_div(int64_t v, int64_t d) { return (v + d - 1) / d; }

// The schedules of the three layouts (one launch each; a contiguous call has one launch per batch of
// experts that fp8gemm::for_each_launch plans with kBm-row tiles).
inline Schedule dense_schedule(const Problem& p) {
    Schedule s{};
    s.layout = kDense;
    s.base = p;
    s.row_tiles = ceil_div(p.m, kBm);
    s.col_tiles = ceil_div(p.n, kBn);
    return s;
}
inline Schedule contiguous_schedule(const Problem& base, const Groups& groups, int64_t b_stride, int64_t sb_stride,
                                    int64_t row_tiles) {
    Schedule s{};
    s.layout = kContiguous;
    s.base = base;
    s.row_tiles = row_tiles;
    s.col_tiles = ceil_div(base.n, kBn);
    s.b_stride = b_stride;
    s.sb_stride = sb_stride;
    s.groups = groups;
    return s;
}
inline Schedule masked_schedule(const Problem& base, int64_t num_groups, int64_t max_m, const int32_t* counts) {
    Schedule s{};
    s.layout = kMasked;
    s.base = base;
    s.row_tiles = num_groups * ceil_div(max_m, kBm);
    s.col_tiles = ceil_div(base.n, kBn);
    s.max_m = max_m;
    s.counts = counts;
    return s;
}

// offsets and prefix: device memory of the routed rows (prefix in kBm-row tiles); rows: A's rows, a
// bound on offsets[experts], which the host does not read.
inline Schedule routed_schedule(const Problem& base, int64_t experts, int64_t rows, const int64_t* offsets,
                                const int64_t* prefix) {
    Schedule s{};
    s.layout = kRouted;
    s.base = base;
    s.row_tiles = ceil_div(rows, kBm) + experts;  // each expert wastes at most one partial tile
    s.col_tiles = ceil_div(base.n, kBn);
    s.experts = experts;
    s.rows = rows;
    s.offsets = offsets;
    s.prefix = prefix;
    return s;
}

// Rows of the A and B tensors a launch's boxes are cut from (the TMA maps' outer extents).
inline int64_t a_rows(const Schedule& s, int64_t num_groups) {
    switch (s.layout) {
        case kDense: return s.base.m;
        case kContiguous: return s.groups.rows[s.groups.count];
        case kRouted: return s.rows;
        default: return num_groups * s.max_m;
    }
}
inline int64_t b_rows(const Schedule& s, int64_t num_groups) {
    switch (s.layout) {
        case kDense: return s.base.n;
        case kContiguous: return s.groups.count * s.base.n;
        case kRouted: return s.experts * s.base.n;
        default: return num_groups * s.base.n;
    }
}

// Tile t in band order: bands of kBandRows row tiles, column-major inside a band.
MOE_HD void raster(int64_t t, int64_t rows, int64_t cols, int64_t* rt, int64_t* ct) {
    const int64_t band = t / (kBandRows * cols);
    const int64_t first = band * kBandRows;
    const int64_t height = rows - first < kBandRows ? rows - first : kBandRows;
    const int64_t r = t - band * kBandRows * cols;
    *rt = first + r % height;
    *ct = r / height;
}

MOE_HD Job job(const Schedule& s, int64_t t) {
    int64_t rt, ct;
    raster(t, s.row_tiles, s.col_tiles, &rt, &ct);
    Job j{};
    j.col0 = ct * kBn;
    if (s.layout == kDense) {
        j.p = s.base;
        j.row0 = rt * kBm;
        j.a_row = j.row0;
        j.b_row = j.col0;
    } else if (s.layout == kContiguous) {
        const int e = fp8gemm::contiguous_tile(s.base, s.groups, s.b_stride, s.sb_stride, rt, &j.p, &j.row0, kBm);
        j.a_row = s.groups.rows[e] + j.row0;
        j.b_row = e * s.base.n + j.col0;
    } else if (s.layout == kRouted) {
        const int64_t e = fp8gemm::routed_tile(s.base, s.offsets, s.prefix, s.experts, rt, kBm, &j.p, &j.row0);
        if (e < 0) {
            j.p = s.base;  // a tile of the worst-case grid past the last: nothing to compute (p.m = 0)
            j.row0 = 0;
        } else {
            j.a_row = s.offsets[e] + j.row0;
            j.b_row = e * s.base.n + j.col0;
        }
    } else {
        fp8gemm::masked_tile(s.base, s.max_m, s.counts, rt, &j.p, &j.row0, &j.zero_from, &j.zero_to, kBm);
        const int64_t e = rt / ((s.max_m + kBm - 1) / kBm);
        j.a_row = e * s.max_m + j.row0;
        j.b_row = e * s.base.n + j.col0;
    }
    return j;
}

// Whether the tile has rows to compute (a masked tile past its expert's count has none; both roles skip it).
MOE_HD bool computes(const Job& j) { return j.row0 < j.p.m; }

MOE_HD uint32_t stage_of(uint32_t i) { return i % kStages; }
MOE_HD uint32_t parity_of(uint32_t i) { return (i / kStages) & 1u; }

// The producer: for every chunk of every tile of block `first`, wait until the stage is free, then load.
// ops.begin_tile(t) names the tile that the following waits belong to (for a hang's report);
// ops.wait_empty(stage, parity); ops.load(stage, a_row, b_row, k0) arms the stage's full barrier with
// kStageBytes and issues both boxes.
template <class Ops>
MOE_HD void produce(Ops& ops, const Schedule& s, int64_t first, int64_t stride) {
    uint32_t i = 0;
    for (int64_t t = first; t < tiles(s); t += stride) {
        const Job j = job(s, t);
        if (!computes(j)) continue;
        ops.begin_tile(t);
        for (int64_t ch = 0; ch < fp8gemm::chunks(j.p.k); ++ch, ++i) {
            ops.wait_empty(stage_of(i), parity_of(i) ^ 1u);
            ops.load(stage_of(i), j.a_row, j.b_row, ch * kChunk);
        }
    }
}

// Consumer warpgroup w (rows [64 w, 64 w + 64) of each tile). ops.each(f) runs f(tid, lane) for the
// warpgroup's threads (tid < 128); ops.wait_full(stage, parity); ops.mma(stage, w) runs the chunk's four
// wgmmas into the lanes' part and waits for them; ops.release(stage) arrives on the stage's empty barrier
// once per warp.
template <class Ops>
MOE_HD void consume(Ops& ops, const Schedule& s, int64_t first, int64_t stride, int w) {
    uint32_t i = 0;
    for (int64_t t = first; t < tiles(s); t += stride) {
        const Job j = job(s, t);
        const int64_t row0 = j.row0 + w * kSlice;
        if (computes(j)) {
            ops.begin_tile(t);
            ops.each([&](int, Lane& l) { clear(l); });
            for (int64_t ch = 0; ch < fp8gemm::chunks(j.p.k); ++ch, ++i) {
                ops.each([&](int tid, Lane& l) { load_scales(j.p, row0, j.col0, ch, tid, l); });  // ahead of the wait
                ops.wait_full(stage_of(i), parity_of(i));
                ops.mma(stage_of(i), w);
                ops.release(stage_of(i));
                ops.each([&](int, Lane& l) { promote(l); });
            }
            ops.each([&](int tid, const Lane& l) { store(j.p, row0, j.col0, tid, l); });
        }
        if (w == 0) {
            // Masked tiles past a count; warpgroup 0 alone so that the host twin zeroes each row once.
            ops.each([&](int tid, const Lane&) {
                fp8gemm::zero_rows(j.p, j.zero_from, j.zero_to, j.col0, kBn, tid, 128);
            });
        }
    }
}

}  // namespace pipe
}  // namespace fp8wgmma
}  // namespace moe
