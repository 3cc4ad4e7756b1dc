// The tensor-core FP8 block-scaled GEMM (MOE_GEMM_KERNEL_MMA, fp8_gemm.cu) as phases of one thread block,
// written once for the device and the host like fp8_gemm_tile.cuh: the kernel issues
// mma.sync.m16n8k32.e4m3 on sm_89 / sm_90, and on sm_80 (no FP8 MMA) decodes the codes to BF16 (exact:
// E4M3 has 3 mantissa bits, BF16 7) for two mma.sync.m16n8k16.bf16 per k32 step. The testkit's GEMM twin
// runs the same phases with either instruction emulated lane by lane from its PTX fragment layout, so tests
// check the staging, fragment and promotion indexing on machines without a GPU.
//
// Block tile 64 x 64 outputs, 4 warps in 2 x 2, each warp 32 x 32 = 2 m16 x 4 n8 MMA tiles. One 128-wide
// scale chunk of A and B is staged in shared memory per step; its four k32 MMAs accumulate into fresh
// fragments, which are then promoted on the CUDA cores as acc += part * (sa * sb): DeepSeek-V3's recipe
// (§3.3.2), so the tensor core's limited-precision accumulation never spans more than 128 products.
// The emulation sums each output's products in increasing k, so on the host the result equals
// dev.moe.fp8.Fp8GemmReference bit for bit; on a GPU the tensor core's internal order and precision make
// it close, not identical (tests use a tolerance there).
//
// Fragment layout (PTX ISA, mma.m16n8k32 with 8-bit A/B; g = lane / 4, t = lane % 4; byte j of a register
// is its j-th element, least significant first):
//   A regs 0..3 hold (row, k) = (g, 4t+j), (g+8, 4t+j), (g, 16+4t+j), (g+8, 16+4t+j)
//   B regs 0..1 hold (k, col) = (4t+j, g), (16+4t+j, g)
//   C/D regs 0..3 hold (row, col) = (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1)
// and for m16n8k16 with BF16 pairs (element 2i in the low half): A regs 0..3 hold (g, 2t+j), (g+8, 2t+j),
// (g, 8+2t+j), (g+8, 8+2t+j); B regs 0..1 hold (2t+j, g), (8+2t+j, g).
// Any permutation of k shared by A and B gives the same products, so only the row / column mapping matters.
#pragma once

#include <stdint.h>

#include <cstring>

#include "fp8_gemm_tile.cuh"

namespace moe {
namespace fp8mma {

using fp8gemm::Problem;

constexpr int kBm = 64;
constexpr int kBn = 64;
constexpr int kChunk = fp8gemm::kChunk;  // k per staged step = one scale chunk
constexpr int kStride = kChunk + 16;     // shared-memory row stride in bytes (padding against bank conflicts)
constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kMi = 2;  // m16 tiles per warp
constexpr int kNi = 4;  // n8 tiles per warp

// One lane's fragments between phases (registers on the device).
struct Lane {
    float part[kMi][kNi][4];  // the current chunk's sums (MMA accumulators)
    float acc[kMi][kNi][4];   // the promoted result
};

MOE_HD void clear(Lane& l) {
    MOE_UNROLL
    for (int i = 0; i < kMi; ++i)
        MOE_UNROLL
        for (int j = 0; j < kNi; ++j)
            MOE_UNROLL
            for (int r = 0; r < 4; ++r) {
                l.part[i][j][r] = 0.0f;
                l.acc[i][j][r] = 0.0f;
            }
}

MOE_HD void copy16(uint8_t* dst, const uint8_t* src) {
#if defined(__CUDA_ARCH__)
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
#else
    std::memcpy(dst, src, 16);
#endif
}

// Phase 1: thread tid stages 64 bytes of one A row and one B row of the chunk [k0, k0 + 128): row tid / 2,
// bytes (tid % 2) * 64 ... + 63. Zeros outside the matrices (code 0 is +0: adding its products changes no sum).
MOE_HD void stage(const Problem& p, int64_t row0, int64_t col0, int64_t k0, int tid, uint8_t (*as)[kStride],
                  uint8_t (*bs)[kStride]) {
    const int r = tid / 2;
    const int c0 = (tid % 2) * 64;
    const int64_t kg = k0 + c0;
    const bool k_full = kg + 64 <= p.k;
    for (int which = 0; which < 2; ++which) {
        const int64_t row = (which == 0 ? row0 : col0) + r;
        const int64_t rows = which == 0 ? p.m : p.n;
        const uint8_t* src = which == 0 ? p.a : p.b;
        uint8_t* dst = which == 0 ? as[r] + c0 : bs[r] + c0;
        if (row < rows && k_full && ((row * p.k + kg) % 16) == 0 && (reinterpret_cast<uintptr_t>(src) % 16) == 0) {
            for (int q = 0; q < 4; ++q) copy16(dst + 16 * q, src + row * p.k + kg + 16 * q);
        } else {
            for (int j = 0; j < 64; ++j) dst[j] = (row < rows && kg + j < p.k) ? src[row * p.k + kg + j] : uint8_t{0};
        }
    }
}

// Four codes at a 4-byte aligned shared-memory address (rows are kStride bytes, fragment columns multiples
// of 4), byte j in bits 8j..8j+7: one 32-bit shared load on the device (little-endian, like the host).
MOE_HD uint32_t u32_at(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
    return *reinterpret_cast<const uint32_t*>(p);
#else
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
#endif
}

// Phase 2a: the A fragment of m16 tile mi of warp row wm, k32 step kk.
MOE_HD void frag_a(const uint8_t (*as)[kStride], int wm, int mi, int kk, int lane, uint32_t (&a)[4]) {
    const int r = wm * 32 + mi * 16 + lane / 4;
    const int c = kk * 32 + (lane % 4) * 4;
    a[0] = u32_at(&as[r][c]);
    a[1] = u32_at(&as[r + 8][c]);
    a[2] = u32_at(&as[r][c + 16]);
    a[3] = u32_at(&as[r + 8][c + 16]);
}

// Phase 2b: the B fragment of n8 tile ni of warp column wn, k32 step kk.
MOE_HD void frag_b(const uint8_t (*bs)[kStride], int wn, int ni, int kk, int lane, uint32_t (&b)[2]) {
    const int n = wn * 32 + ni * 8 + lane / 4;
    const int c = kk * 32 + (lane % 4) * 4;
    b[0] = u32_at(&bs[n][c]);
    b[1] = u32_at(&bs[n][c + 16]);
}

// The BF16 bits of an E4M3 code's value (exact: the FP32 decode has its low 16 bits zero), two per register.
MOE_HD uint32_t bf16_pair(const float* lut, uint8_t lo, uint8_t hi) {
    return (float_to_bits(lut[lo]) >> 16) | (float_to_bits(lut[hi]) & 0xffff0000u);
}

// Phase 2a (sm_80): the BF16 A fragment of m16 tile mi for k16 half h of k32 step kk.
MOE_HD void frag_a_bf16(const uint8_t (*as)[kStride], const float* lut, int wm, int mi, int kk, int h, int lane,
                        uint32_t (&a)[4]) {
    const int r = wm * 32 + mi * 16 + lane / 4;
    const int c = kk * 32 + h * 16 + (lane % 4) * 2;
    a[0] = bf16_pair(lut, as[r][c], as[r][c + 1]);
    a[1] = bf16_pair(lut, as[r + 8][c], as[r + 8][c + 1]);
    a[2] = bf16_pair(lut, as[r][c + 8], as[r][c + 9]);
    a[3] = bf16_pair(lut, as[r + 8][c + 8], as[r + 8][c + 9]);
}

// Phase 2b (sm_80): the BF16 B fragment of n8 tile ni for k16 half h of k32 step kk.
MOE_HD void frag_b_bf16(const uint8_t (*bs)[kStride], const float* lut, int wn, int ni, int kk, int h, int lane,
                        uint32_t (&b)[2]) {
    const int n = wn * 32 + ni * 8 + lane / 4;
    const int c = kk * 32 + h * 16 + (lane % 4) * 2;
    b[0] = bf16_pair(lut, bs[n][c], bs[n][c + 1]);
    b[1] = bf16_pair(lut, bs[n][c + 8], bs[n][c + 9]);
}

// Output (row, col) within the block tile of fragment register reg of tile (mi, ni) of a lane of warp w.
MOE_HD int out_row(int w, int mi, int lane, int reg) { return (w / 2) * 32 + mi * 16 + lane / 4 + (reg >= 2 ? 8 : 0); }
MOE_HD int out_col(int w, int ni, int lane, int reg) { return (w % 2) * 32 + ni * 8 + (lane % 4) * 2 + (reg & 1); }

// Phase 3 (end of chunk ch): acc += part * (sa * sb), then fresh chunk sums.
MOE_HD void promote(const Problem& p, int64_t row0, int64_t col0, int64_t ch, int w, int lane, Lane& l) {
    const int64_t kc = fp8gemm::chunks(p.k);
    MOE_UNROLL
    for (int mi = 0; mi < kMi; ++mi)
        MOE_UNROLL
        for (int ni = 0; ni < kNi; ++ni)
            MOE_UNROLL
            for (int reg = 0; reg < 4; ++reg) {
                const int64_t r = row0 + out_row(w, mi, lane, reg);
                const int64_t c = col0 + out_col(w, ni, lane, reg);
                const float sa = r < p.m ? p.sa[r * kc + ch] : 0.0f;
                const float sb = c < p.n ? p.sb[(c / kChunk) * kc + ch] : 0.0f;
                l.acc[mi][ni][reg] = l.acc[mi][ni][reg] + l.part[mi][ni][reg] * (sa * sb);
                l.part[mi][ni][reg] = 0.0f;
            }
}

// Phase 4: the lane's outputs that exist.
MOE_HD void store(const Problem& p, int64_t row0, int64_t col0, int w, int lane, const Lane& l) {
    MOE_UNROLL
    for (int mi = 0; mi < kMi; ++mi)
        MOE_UNROLL
        for (int ni = 0; ni < kNi; ++ni)
            MOE_UNROLL
            for (int reg = 0; reg < 4; ++reg) {
                const int64_t r = row0 + out_row(w, mi, lane, reg);
                const int64_t c = col0 + out_col(w, ni, lane, reg);
                if (r < p.m && c < p.n) p.c[r * p.n + c] = l.acc[mi][ni][reg];
            }
}

#if defined(__CUDACC__)
// d += a * b on the tensor cores: FP8 on sm_89+, BF16 on sm_80 (the host emulations live in the CPU library).
__device__ __forceinline__ void mma_e4m3(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    (void)d;
    (void)a;
    (void)b;
    __trap();  // not compiled for FP8 MMA
#endif
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    (void)d;
    (void)a;
    (void)b;
    __trap();  // below sm_80: the host refuses those devices
#endif
}

// One 64x64 output tile on the device: FP8 MMA where the architecture has it, else BF16 MMA.
__device__ inline void run_tile_mma(const Problem& p, int64_t row0, int64_t col0) {
    __shared__ alignas(16) uint8_t as[kBm][kStride];
    __shared__ alignas(16) uint8_t bs[kBn][kStride];
    const int tid = static_cast<int>(threadIdx.x);
    const int w = tid / 32;
    const int lane = tid % 32;
#if !(defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890)
    __shared__ float lut[256];
    lut[tid] = moe_e4m3_decode(static_cast<uint8_t>(tid));
    lut[tid + kThreads] = moe_e4m3_decode(static_cast<uint8_t>(tid + kThreads));
#endif
    Lane l;
    clear(l);
    for (int64_t ch = 0; ch < fp8gemm::chunks(p.k); ++ch) {
        __syncthreads();  // the previous chunk is consumed (and the lut written)
        stage(p, row0, col0, ch * kChunk, tid, as, bs);
        __syncthreads();
        MOE_UNROLL
        for (int kk = 0; kk < kChunk / 32; ++kk) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
            uint32_t a[kMi][4];
            uint32_t b[kNi][2];
            MOE_UNROLL
            for (int mi = 0; mi < kMi; ++mi) frag_a(as, w / 2, mi, kk, lane, a[mi]);
            MOE_UNROLL
            for (int ni = 0; ni < kNi; ++ni) frag_b(bs, w % 2, ni, kk, lane, b[ni]);
            MOE_UNROLL
            for (int mi = 0; mi < kMi; ++mi)
                MOE_UNROLL
                for (int ni = 0; ni < kNi; ++ni) mma_e4m3(l.part[mi][ni], a[mi], b[ni]);
#else
            MOE_UNROLL
            for (int h = 0; h < 2; ++h) {
                uint32_t a[kMi][4];
                uint32_t b[kNi][2];
                MOE_UNROLL
                for (int mi = 0; mi < kMi; ++mi) frag_a_bf16(as, lut, w / 2, mi, kk, h, lane, a[mi]);
                MOE_UNROLL
                for (int ni = 0; ni < kNi; ++ni) frag_b_bf16(bs, lut, w % 2, ni, kk, h, lane, b[ni]);
                MOE_UNROLL
                for (int mi = 0; mi < kMi; ++mi)
                    MOE_UNROLL
                    for (int ni = 0; ni < kNi; ++ni) mma_bf16(l.part[mi][ni], a[mi], b[ni]);
            }
#endif
        }
        promote(p, row0, col0, ch, w, lane, l);
    }
    store(p, row0, col0, w, lane, l);
}
#endif

}  // namespace fp8mma
}  // namespace moe
