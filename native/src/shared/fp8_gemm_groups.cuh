// The grouped-contiguous layout of the CUDA FP8 GEMMs, shared by every kernel (exact, mma.sync, wgmma) and
// by the host twin: the host splits the experts into launches of at most kMaxGroupsPerLaunch (their row
// offsets travel as a kernel parameter), and each block finds its expert's problem from its row tile.
#pragma once

#include <stdint.h>

#include "fp8_gemm_tile.cuh"

namespace moe {
namespace fp8gemm {

constexpr int kMaxGroupsPerLaunch = 256;

struct Groups {
    int32_t count;                               // experts in this launch
    int64_t row_tiles[kMaxGroupsPerLaunch + 1];  // prefix sums of each expert's row tiles (tile_m rows)
    int64_t rows[kMaxGroupsPerLaunch + 1];       // first row of each expert (relative to the launch's A)
};

// The problem of row tile `tile` of a launch planned with tile_m-row tiles (kBm = 64 for the one-tile-per-
// block kernels, 128 for the pipelined wgmma one); returns the expert's index within the launch.
MOE_HD int contiguous_tile(const Problem& base, const Groups& groups, int64_t b_stride, int64_t sb_stride, int64_t tile,
                           Problem* p, int64_t* row0, int64_t tile_m = kBm) {
    int e = 0;
    while (e + 1 < groups.count && groups.row_tiles[e + 1] <= tile) ++e;
    const int64_t r0 = groups.rows[e];
    const int64_t kc = chunks(base.k);
    *p = Problem{groups.rows[e + 1] - r0, base.n, base.k, base.a + r0 * base.k, base.sa + r0 * kc,
                 base.b + e * b_stride, base.sb + e * sb_stride, base.c + r0 * base.n};
    *row0 = (tile - groups.row_tiles[e]) * tile_m;
    return e;
}

// The expert of row tile `tile` given the prefix of each expert's row tiles (tiles[0] = 0, tiles[e + 1] -
// tiles[e] tiles of expert e): the last e with tiles[e] <= tile, which skips experts without rows.
MOE_HD int64_t expert_of_tile(const int64_t* tiles, int64_t n_groups, int64_t tile) {
    int64_t lo = 0, hi = n_groups - 1;
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (tiles[mid] <= tile) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// Row tile `tile` (tile_m rows) of a grouped GEMM over contiguous expert rows whose offsets and tile
// prefix sit in memory the block reads (device memory for the GPU-resident layer, computed there): *p
// becomes the expert's problem and *row0 the tile's first row in it; returns the expert, or -1 for a tile
// beyond the last (grids are sized for the worst case, rows / tile_m + experts tiles).
MOE_HD int64_t routed_tile(const Problem& base, const int64_t* offsets, const int64_t* tiles, int64_t n_groups, int64_t tile,
                           int64_t tile_m, Problem* p, int64_t* row0) {
    if (tile >= tiles[n_groups]) return -1;
    const int64_t e = expert_of_tile(tiles, n_groups, tile);
    const int64_t r0 = offsets[e];
    const int64_t kc = chunks(base.k);
    *p = Problem{offsets[e + 1] - r0, base.n, base.k, base.a + r0 * base.k, base.sa + r0 * kc,
                 base.b + e * base.n * base.k, base.sb + e * chunks(base.n) * kc, base.c + r0 * base.n};
    *row0 = (tile - tiles[e]) * tile_m;
    return e;
}

// The launches of a checked contiguous call: launch(base, groups, b_stride, sb_stride, row_tiles) for each
// batch of up to kMaxGroupsPerLaunch experts that has rows, planned in tile_m-row tiles; stops at the
// first status it returns.
template <class Launch>
int32_t for_each_launch(int64_t num_groups, const int64_t* offsets, int64_t n, int64_t k, const uint8_t* a, const float* sa,
                        const uint8_t* b, const float* sb, float* c, Launch launch, int64_t tile_m = kBm) {
    const int64_t kc = chunks(k);
    const int64_t b_stride = n * k;
    const int64_t sb_stride = chunks(n) * kc;
    for (int64_t first = 0; first < num_groups; first += kMaxGroupsPerLaunch) {
        Groups groups{};
        groups.count = static_cast<int32_t>(num_groups - first < kMaxGroupsPerLaunch ? num_groups - first : kMaxGroupsPerLaunch);
        const int64_t base_row = offsets[first];
        for (int e = 0; e < groups.count; ++e) {
            groups.rows[e] = offsets[first + e] - base_row;
            groups.row_tiles[e + 1] = groups.row_tiles[e] + (offsets[first + e + 1] - offsets[first + e] + tile_m - 1) / tile_m;
        }
        groups.rows[groups.count] = offsets[first + groups.count] - base_row;
        const int64_t row_tiles = groups.row_tiles[groups.count];
        if (row_tiles == 0) continue;
        const Problem base{0, n, k, a + base_row * k, sa + base_row * kc, b + first * b_stride, sb + first * sb_stride,
                           c + base_row * n};
        if (const int32_t s = launch(base, groups, b_stride, sb_stride, row_tiles); s != MOE_STATUS_OK) return s;
    }
    return MOE_STATUS_OK;
}

}  // namespace fp8gemm
}  // namespace moe
