// The FP8 block-scaled GEMM of the CUDA library (fp8_gemm.cu) as phases of one thread block, written
// once for the device and the host: the kernel runs the phases with __syncthreads between them, and
// the testkit's GEMM host twin (native/testkit/fp8_gemm_cuda_host.cpp) runs the same phases thread by
// thread, so tests check the GPU arithmetic against the Java reference on machines without a GPU.
//
// Block tile 64 x 64 outputs, 256 threads; thread (ty, tx) = (tid / 16, tid % 16) owns rows ty + 16i and
// columns tx + 16j (i, j < 4). K advances in slices of 32 inside the 128-wide scale chunks. Per output
// the chunk sum runs over k in increasing order, one product at a time, and is promoted into the FP32
// result as acc += sum * (sa * sb) once per chunk: exactly the operations of dev.moe.fp8.Fp8GemmReference
// (a product of two E4M3 values is exact in FP32, so the CUDA library's --fmad=false is not even needed
// for the products), hence bit-identical results.
//
// CUDA cores only: the tensor-core kernels are fp8_gemm_mma.cuh (mma.sync) and fp8_gemm_wgmma.cuh (sm_90a).
#pragma once

#include <stdint.h>

#include "bits.cuh"
#include "fp8_codec.cuh"
#include "moe/moe.h"

namespace moe {
namespace fp8gemm {

constexpr int kBm = 64;
constexpr int kBn = 64;
constexpr int kBk = 32;
constexpr int kChunk = 128;
constexpr int kThreads = 256;
constexpr int kSub = 4;  // outputs per thread along each dimension

// One GEMM problem: C[m, n] = A[m, k] · B[n, k]ᵀ with 1x128 scales of A and 128x128 scales of B.
struct Problem {
    int64_t m, n, k;
    const uint8_t* a;
    const float* sa;
    const uint8_t* b;
    const float* sb;
    float* c;
};

MOE_HD int64_t chunks(int64_t k) { return (k + kChunk - 1) / kChunk; }

// What one thread keeps between phases (registers on the device).
struct Accum {
    float part[kSub][kSub];  // the running sum of the current 128-chunk
    float acc[kSub][kSub];   // the promoted result
};

MOE_HD void clear(Accum& t) {
    MOE_UNROLL
    for (int i = 0; i < kSub; ++i)
        MOE_UNROLL
        for (int j = 0; j < kSub; ++j) {
            t.part[i][j] = 0.0f;
            t.acc[i][j] = 0.0f;
        }
}

// Phase 1: thread tid decodes 8 codes of A and 8 of B for the slice [k0, k0 + 32) into the shared
// tiles as[kk][row], bs[kk][col] (zeros outside the matrices: never summed, see compute).
MOE_HD void load(const Problem& p, int64_t row0, int64_t col0, int64_t k0, int tid, const float* lut,
                        float (*as)[kBm], float (*bs)[kBn]) {
    const int r = tid / 4;
    const int kk0 = (tid % 4) * 8;
    for (int q = 0; q < 8; ++q) {
        const int kk = kk0 + q;
        const int64_t kg = k0 + kk;
        const int64_t ra = row0 + r;
        const int64_t cb = col0 + r;
        as[kk][r] = (ra < p.m && kg < p.k) ? lut[p.a[ra * p.k + kg]] : 0.0f;
        bs[kk][r] = (cb < p.n && kg < p.k) ? lut[p.b[cb * p.k + kg]] : 0.0f;
    }
}

// Phase 2: the slice's products, k increasing, into the chunk sums (klen = valid k of the slice).
MOE_HD void compute(int tid, int klen, const float (*as)[kBm], const float (*bs)[kBn], Accum& t) {
    const int ty = tid / 16;
    const int tx = tid % 16;
    for (int kk = 0; kk < klen; ++kk) {
        float av[kSub];
        float bv[kSub];
        MOE_UNROLL
        for (int i = 0; i < kSub; ++i) av[i] = as[kk][ty + 16 * i];
        MOE_UNROLL
        for (int j = 0; j < kSub; ++j) bv[j] = bs[kk][tx + 16 * j];
        MOE_UNROLL
        for (int i = 0; i < kSub; ++i)
            MOE_UNROLL
            for (int j = 0; j < kSub; ++j) t.part[i][j] = t.part[i][j] + av[i] * bv[j];
    }
}

// Phase 3 (end of a 128-chunk): acc += sum * (sa * sb), then a fresh chunk sum.
MOE_HD void promote(const Problem& p, int64_t row0, int64_t col0, int64_t ch, int tid, Accum& t) {
    const int ty = tid / 16;
    const int tx = tid % 16;
    const int64_t kc = chunks(p.k);
    MOE_UNROLL
    for (int i = 0; i < kSub; ++i) {
        const int64_t r = row0 + ty + 16 * i;
        const float sa = r < p.m ? p.sa[r * kc + ch] : 0.0f;
        MOE_UNROLL
        for (int j = 0; j < kSub; ++j) {
            const int64_t c = col0 + tx + 16 * j;
            const float sb = c < p.n ? p.sb[(c / kChunk) * kc + ch] : 0.0f;
            t.acc[i][j] = t.acc[i][j] + t.part[i][j] * (sa * sb);
            t.part[i][j] = 0.0f;
        }
    }
}

// Phase 4: the thread's outputs that exist.
MOE_HD void store(const Problem& p, int64_t row0, int64_t col0, int tid, const Accum& t) {
    const int ty = tid / 16;
    const int tx = tid % 16;
    MOE_UNROLL
    for (int i = 0; i < kSub; ++i) {
        const int64_t r = row0 + ty + 16 * i;
        if (r >= p.m) continue;
        MOE_UNROLL
        for (int j = 0; j < kSub; ++j) {
            const int64_t c = col0 + tx + 16 * j;
            if (c < p.n) p.c[r * p.n + c] = t.acc[i][j];
        }
    }
}

// Valid k of the slice starting at k0.
MOE_HD int slice_len(const Problem& p, int64_t k0) {
    const int64_t left = p.k - k0;
    return static_cast<int>(left < kBk ? left : kBk);
}

// Masked grouped layout (A [E, max_m, K], C [E, max_m, N]): row tile `tile` of the E * ceil(max_m / tile_m)
// tiles belongs to expert tile / per_expert. *p becomes the expert's problem over its first count rows
// (counts are read where the kernel runs, clamped to 0..max_m) and *row0 the tile's first row;
// *zero_from.. *zero_to are the tile's rows past the count, which the block sets to 0.
MOE_HD void masked_tile(const Problem& base, int64_t max_m, const int32_t* counts, int64_t tile, Problem* p, int64_t* row0,
                        int64_t* zero_from, int64_t* zero_to, int64_t tile_m = kBm) {
    const int64_t per_expert = (max_m + tile_m - 1) / tile_m;
    const int64_t e = tile / per_expert;
    int64_t count = counts[e];
    count = count < 0 ? 0 : (count > max_m ? max_m : count);
    const int64_t kc = chunks(base.k);
    *p = Problem{count, base.n, base.k, base.a + e * max_m * base.k, base.sa + e * max_m * kc, base.b + e * base.n * base.k,
                 base.sb + e * chunks(base.n) * kc, base.c + e * max_m * base.n};
    *row0 = (tile % per_expert) * tile_m;
    const int64_t end = *row0 + tile_m < max_m ? *row0 + tile_m : max_m;
    *zero_from = count > *row0 ? count : *row0;
    *zero_to = end;
}

// Thread tid of `threads` zeroes rows [from, to) x columns [col0, col0 + width) of p's C (within N).
MOE_HD void zero_rows(const Problem& p, int64_t from, int64_t to, int64_t col0, int64_t width, int tid, int threads) {
    const int64_t cols = p.n - col0 < width ? p.n - col0 : width;
    for (int64_t i = tid; i < (to - from) * cols; i += threads) p.c[(from + i / cols) * p.n + col0 + i % cols] = 0.0f;
}

#if defined(__CUDACC__)
// One 64x64 output tile on the device: the phases above, separated by barriers (256 threads).
__device__ inline void run_tile(const Problem& p, int64_t row0, int64_t col0) {
    __shared__ float lut[256];
    __shared__ float as[kBk][kBm];
    __shared__ float bs[kBk][kBn];
    const int tid = static_cast<int>(threadIdx.x);
    lut[tid] = moe_e4m3_decode(static_cast<uint8_t>(tid));  // 256 threads, 256 codes
    Accum t;
    clear(t);
    for (int64_t ch = 0; ch < chunks(p.k); ++ch) {
        for (int64_t k0 = ch * kChunk; k0 < p.k && k0 < (ch + 1) * kChunk; k0 += kBk) {
            __syncthreads();  // the lut is written / the previous slice is consumed
            load(p, row0, col0, k0, tid, lut, as, bs);
            __syncthreads();
            compute(tid, slice_len(p, k0), as, bs, t);
        }
        promote(p, row0, col0, ch, tid, t);
    }
    store(p, row0, col0, tid, t);
}
#endif

}  // namespace fp8gemm
}  // namespace moe
