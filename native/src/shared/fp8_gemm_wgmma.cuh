// The Hopper FP8 block-scaled GEMM (MOE_GEMM_KERNEL_WGMMA, cuda/fp8_gemm_wgmma.cu) as phases of one
// thread block, written once for the device and the host like fp8_gemm_mma.cuh: the kernel issues
// wgmma.mma_async.m64n128k32.f32.e4m3.e4m3 (sm_90a) with both operands in shared memory, described by
// matrix descriptors; the testkit's host twin (native/testkit/fp8_gemm_wgmma_host.cpp) stages into a byte
// array standing for shared memory and emulates each wgmma by decoding the descriptors, so a mismatch
// between the staging below and the descriptors is caught on machines without a GPU.
//
// Block tile 64 x 128 outputs = one warpgroup (128 threads) issuing m64n128k32. Per 128-wide scale chunk
// the four k32 wgmmas accumulate into fresh registers (scale-d = 0 on the first), the warpgroup waits,
// then the chunk is promoted on the CUDA cores as acc += part * (sa * sb), as in fp8_gemm_mma.cuh.
//
// Shared-memory layout (PTX ISA 9.7.15.5.1.2, "K-major, 128B swizzling"): both operands K-major; one
// staged row is the chunk's 128 codes = 128 bytes = one swizzle row; 8 rows form a 1024-byte atom; atoms
// of consecutive 8-row groups are SBO = 1024 bytes apart; LBO is unused for swizzled K-major layouts. The
// canonical layout ((8,m),(T,2k)):((8T,SBO),(1,T)) (T = 16 one-byte elements) puts (row, k) at
// (row / 8) * SBO + (row % 8) * 128 + k, and Swizzle<3,4,3> then XORs address bits [4,7) (the 16-byte
// piece within the 128-byte row) with bits [7,10) (the row within the atom). The swizzle acts on the
// shared-memory address, so tiles start on 1024-byte boundaries (descriptor base offset 0), and the k32
// step kk is selected by adding 32 * kk bytes to the start address (the pieces it reaches are swizzled as
// parts of the full row).
//
// Accumulator layout (PTX ISA 9.7.15.5.1.1.3, Figure 153, m64nNk32 f32 D; the same as CUTLASS's
// SM90 CLayout_64xN): thread t = 32 w + l holds N / 2 registers; register i is element
// (row, col) = (16 w + l / 4 + 8 ((i / 2) % 2), 8 (i / 4) + 2 (l % 4) + i % 2).
#pragma once

#include <stdint.h>

#include <cstring>

#include "fp8_gemm_tile.cuh"

namespace moe {
namespace fp8wgmma {

using fp8gemm::Problem;

constexpr int kBm = 64;
constexpr int kBn = 128;
constexpr int kChunk = fp8gemm::kChunk;  // k per staged step = one scale chunk = one 128-byte swizzle row
constexpr int kThreads = 128;            // one warpgroup
constexpr int kRegs = kBn / 2;           // f32 accumulators per thread of m64n128
constexpr int kK = 32;                   // k per wgmma (FP8)

constexpr uint32_t kRowBytes = 128;                 // 128B swizzle: one row of a swizzle atom
constexpr uint32_t kSbo = 8 * kRowBytes;            // stride between 8-row groups (one 1024-byte atom)
constexpr uint32_t kLbo = 16;                       // unused by swizzled K-major layouts ("assumed 1", in 16 B)
constexpr uint32_t kSwizzle128B = 1;                // descriptor bits 62-63
constexpr uint32_t kAOffset = 0;                    // operand tiles in the block's shared memory, 1024-aligned
constexpr uint32_t kBOffset = kBm * kRowBytes;
constexpr uint32_t kSmemBytes = kBOffset + kBn * kRowBytes;
constexpr uint32_t kSmemAlign = 1024;               // the 128B swizzle pattern repeats every 1024 bytes
static_assert(kBOffset % kSmemAlign == 0, "the B tile must start a swizzle atom");

// One thread's registers between phases.
struct Lane {
    float part[kRegs];  // the current chunk's sums (wgmma accumulators)
    float acc[kRegs];   // the promoted result
    float scale[2];     // sa * sb of the chunk for the thread's two rows
};

MOE_HD void clear(Lane& l) {
    for (int i = 0; i < kRegs; ++i) {
        l.part[i] = 0.0f;
        l.acc[i] = 0.0f;
    }
    l.scale[0] = l.scale[1] = 0.0f;
}

// Byte offset of operand element (row, k) (k < 128, the chunk's position) from its tile's start.
MOE_HD uint32_t smem_offset(int row, int k) {
    const uint32_t r = static_cast<uint32_t>(row);
    const uint32_t piece = (static_cast<uint32_t>(k) / 16) ^ (r % 8);
    return (r / 8) * kSbo + (r % 8) * kRowBytes + piece * 16 + static_cast<uint32_t>(k) % 16;
}

// The 64-bit wgmma matrix descriptor (PTX ISA 9.7.15.5.1.2.2): start address, LBO, SBO in 16-byte units
// (14 bits each at bits 0, 16, 32), base offset 0 (bits 49-51), swizzle mode at bits 62-63.
MOE_HD uint64_t make_desc(uint32_t smem_addr, uint32_t lbo, uint32_t sbo, uint32_t swizzle) {
    const auto enc = [](uint32_t x) { return static_cast<uint64_t>((x & 0x3FFFFu) >> 4); };
    return enc(smem_addr) | (enc(lbo) << 16) | (enc(sbo) << 32) | (static_cast<uint64_t>(swizzle & 3u) << 62);
}

// Descriptor of k32 step kk of a K-major, 128B-swizzled operand tile starting at smem_addr (1024-aligned).
MOE_HD uint64_t desc_at(uint32_t smem_addr, int kk) {
    return make_desc(smem_addr + static_cast<uint32_t>(kk * kK), kLbo, kSbo, kSwizzle128B);
}

// Descriptors of k32 step kk for the tiles of a block whose shared memory starts at smem_base.
MOE_HD uint64_t desc_a(uint32_t smem_base, int kk) { return desc_at(smem_base + kAOffset, kk); }
MOE_HD uint64_t desc_b(uint32_t smem_base, int kk) { return desc_at(smem_base + kBOffset, kk); }

MOE_HD void copy16(uint8_t* dst, const uint8_t* src) {
#if defined(__CUDA_ARCH__)
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
#else
    std::memcpy(dst, src, 16);
#endif
}

// Phase 1: thread tid stages 16-byte pieces of the chunk [k0, k0 + 128): A rows 0..63 and B rows 0..127,
// piece q = tid + 128 i is row q / 8, codes 16 (q % 8) ... + 15 (8 consecutive threads read one row's 128
// contiguous bytes). Zeros outside the matrices (code 0 is +0: its products change no sum).
MOE_HD void stage(const Problem& p, int64_t row0, int64_t col0, int64_t k0, int tid, uint8_t* smem) {
    for (int q = tid; q < (kBm + kBn) * 8; q += kThreads) {
        const bool is_a = q < kBm * 8;
        const int r = (is_a ? q : q - kBm * 8) / 8;
        const int kc = (q % 8) * 16;
        const int64_t row = (is_a ? row0 : col0) + r;
        const int64_t rows = is_a ? p.m : p.n;
        const uint8_t* src = is_a ? p.a : p.b;
        uint8_t* dst = smem + (is_a ? kAOffset : kBOffset) + smem_offset(r, kc);
        const int64_t kg = k0 + kc;
        if (row < rows && kg + 16 <= p.k && ((row * p.k + kg) % 16) == 0 && (reinterpret_cast<uintptr_t>(src) % 16) == 0) {
            copy16(dst, src + row * p.k + kg);
        } else {
            for (int j = 0; j < 16; ++j) dst[j] = (row < rows && kg + j < p.k) ? src[row * p.k + kg + j] : uint8_t{0};
        }
    }
}

// Output (row, col) within the block tile of accumulator register reg of thread tid.
MOE_HD int out_row(int tid, int reg) { return (tid / 32) * 16 + (tid % 32) / 4 + ((reg / 2) % 2) * 8; }
MOE_HD int out_col(int tid, int reg) { return (reg / 4) * 8 + (tid % 4) * 2 + reg % 2; }

// Phase 3 (end of chunk ch): acc += part * (sa * sb). The next chunk's first wgmma has scale-d = 0, so
// part needs no clearing. A thread's outputs lie in two rows and, the tile being one 128-column scale
// block wide, one block of B's scales: 3 loads instead of 128 (register pressure next to the accumulators).
// load_scales may run before the chunk's wgmmas (the pipelined kernel issues it ahead of its wait).
static_assert(kBn == kChunk, "a block tile spans exactly one 128-column scale block of B");
MOE_HD void load_scales(const Problem& p, int64_t row0, int64_t col0, int64_t ch, int tid, Lane& l) {
    const int64_t kc = fp8gemm::chunks(p.k);
    const float sb = p.sb[(col0 / kChunk) * kc + ch];  // col0 < n: the block exists
    for (int h = 0; h < 2; ++h) {
        const int64_t r = row0 + out_row(tid, 2 * h);
        l.scale[h] = r < p.m ? p.sa[r * kc + ch] * sb : 0.0f;  // outputs past m or n are never stored
    }
}
MOE_HD void promote(Lane& l) {
    for (int reg = 0; reg < kRegs; ++reg) l.acc[reg] = l.acc[reg] + l.part[reg] * l.scale[(reg / 2) % 2];
}
MOE_HD void promote(const Problem& p, int64_t row0, int64_t col0, int64_t ch, int tid, Lane& l) {
    load_scales(p, row0, col0, ch, tid, l);
    promote(l);
}

// Phase 4: the thread's outputs that exist. Registers 2i and 2i + 1 are neighbours in a row (an even
// column and the next): one 8-byte store on the device where both exist and C's rows keep it aligned.
MOE_HD void store(const Problem& p, int64_t row0, int64_t col0, int tid, const Lane& l) {
    const bool pairs = p.n % 2 == 0 && reinterpret_cast<uintptr_t>(p.c) % 8 == 0;
    for (int reg = 0; reg < kRegs; reg += 2) {
        const int64_t r = row0 + out_row(tid, reg);
        const int64_t c = col0 + out_col(tid, reg);
        if (r >= p.m || c >= p.n) continue;
        float* dst = p.c + r * p.n + c;
#if defined(__CUDA_ARCH__)
        if (pairs && c + 1 < p.n) {
            *reinterpret_cast<float2*>(dst) = make_float2(l.acc[reg], l.acc[reg + 1]);
            continue;
        }
#else
        (void)pairs;
#endif
        dst[0] = l.acc[reg];
        if (c + 1 < p.n) dst[1] = l.acc[reg + 1];
    }
}
static_assert(kRegs % 2 == 0, "registers pair up");

#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MOE_FP8_WGMMA 1  // wgmma needs the arch-specific target sm_90a
#endif

// d = (scale_d ? d : 0) + A(64x32) * B(128x32)ᵀ for the warpgroup, operands read through the descriptors.
__device__ __forceinline__ void wgmma_m64n128k32(float (&d)[kRegs], uint64_t desc_a, uint64_t desc_b, uint32_t scale_d) {
#if defined(MOE_FP8_WGMMA)
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
        "}, %64, %65, p, 1, 1;\n"
        "}\n"
        :
          "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(desc_a), "l"(desc_b), "r"(scale_d));
#else
    (void)d;
    (void)desc_a;
    (void)desc_b;
    (void)scale_d;
    __trap();  // not compiled for sm_90a: the host entry refuses such devices
#endif
}

// Keeps the compiler from moving accumulator reads or writes across the asynchronous wgmma.
__device__ __forceinline__ void fence_regs(float (&d)[kRegs]) {
    for (int i = 0; i < kRegs; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// One 64x128 output tile; smem is 1024-byte aligned, kSmemBytes long (dynamic shared memory).
__device__ inline void run_tile_wgmma(const Problem& p, int64_t row0, int64_t col0, uint8_t* smem) {
#if defined(MOE_FP8_WGMMA)
    const int tid = static_cast<int>(threadIdx.x);
    const uint32_t base = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
    Lane l;
    clear(l);
    for (int64_t ch = 0; ch < fp8gemm::chunks(p.k); ++ch) {
        __syncthreads();  // the previous chunk's wgmmas are complete in every warp
        stage(p, row0, col0, ch * kChunk, tid, smem);
        // wgmma reads shared memory through the async proxy: make the generic-proxy stores visible to it.
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        __syncthreads();
        fence_regs(l.part);
        asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
        for (int kk = 0; kk < kChunk / kK; ++kk) wgmma_m64n128k32(l.part, desc_a(base, kk), desc_b(base, kk), kk > 0 ? 1u : 0u);
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        fence_regs(l.part);
        promote(p, row0, col0, ch, tid, l);
    }
    store(p, row0, col0, tid, l);
#else
    (void)p;
    (void)row0;
    (void)col0;
    (void)smem;
    __trap();
#endif
}
#endif

}  // namespace fp8wgmma
}  // namespace moe
