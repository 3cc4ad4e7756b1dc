// The Hopper wgmma kernel's block code (shared/fp8_gemm_wgmma.cuh) on the
// host. The staging phase writes a byte array standing for shared memory exactly as the kernel does; each
// wgmma is then emulated from its descriptors alone (start address, LBO, SBO, swizzle decoded per the PTX
// ISA), never from the staging code's layout function, so a staging/descriptor mismatch changes results.
// Bytes no staging writes hold code 0x7F (NaN), so a descriptor reaching outside the tiles shows as NaN.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../src/shared/fp8_gemm_wgmma.cuh"
#include "cuda_host.hpp"
#include "moe/moe.h"

namespace g = moe::fp8gemm;

namespace moe {
namespace fp8wgmma {
namespace {

constexpr uint32_t kBase = 3 * kSmemAlign;                   // the block's shared memory inside the window
constexpr uint32_t kWindow = kBase + kSmemBytes + kSmemAlign;  // with poisoned bytes before and after
constexpr uint8_t kPoison = 0x7F;                            // E4M3 NaN

// Shared-memory address of element (row, k) (k < 32) of a K-major wgmma operand given by desc (PTX ISA
// 9.7.15.5.1.2: canonical K-major layouts, matrix descriptor format). false: a field this emulation
// does not model (a non-zero base offset).
bool operand_addr(uint64_t desc, int row, int k, uint32_t* addr) {
    const uint32_t start = static_cast<uint32_t>(desc & 0x3FFF) << 4;
    const uint32_t lbo = static_cast<uint32_t>((desc >> 16) & 0x3FFF) << 4;
    const uint32_t sbo = static_cast<uint32_t>((desc >> 32) & 0x3FFF) << 4;
    const uint32_t base_offset = static_cast<uint32_t>((desc >> 49) & 0x7);
    const uint32_t mode = static_cast<uint32_t>(desc >> 62);
    if (base_offset != 0) return false;
    const uint32_t r = static_cast<uint32_t>(row);
    const uint32_t kk = static_cast<uint32_t>(k);
    if (mode == 0) {
        // ((8,m),(T,2k)):((1T,SBO),(1,LBO)), T = 16: core matrices of 8 rows x 16 bytes.
        *addr = start + (r % 8) * 16 + (r / 8) * sbo + kk % 16 + (kk / 16) * lbo;
        return true;
    }
    // ((8,m),(T,2k)):((W,SBO),(1,T)) with W = 128, 64, 32 bytes per swizzle row, then Swizzle<B,4,3>:
    // address bits [4, 4+B) ^= bits [7, 7+B), B = log2(W / 16).
    const uint32_t bits = mode == 1 ? 3 : mode == 2 ? 2 : 1;
    const uint32_t w = 16u << bits;
    uint32_t a = start + (r % 8) * w + (r / 8) * sbo + kk;
    a ^= ((a >> 7) & ((1u << bits) - 1)) << 4;
    *addr = a;
    return true;
}

// Element (row, col) of register v of thread t of an m64nN f32 accumulator, written independently of
// out_row / out_col as CUTLASS's CLayout_64xN: ((4,8,4),(2,2,N/8)):((128,1,16),(64,8,512)) over the
// column-major index row + 64 col.
void d_position(int t, int v, int* row, int* col) {
    const int idx = (t % 4) * 128 + ((t / 4) % 8) * 1 + (t / 32) * 16 + (v % 2) * 64 + ((v / 2) % 2) * 8 + (v / 4) * 512;
    *row = idx % 64;
    *col = idx / 64;
}

}  // namespace

bool wgmma_host(float (*d)[kRegs], uint64_t desc_a, uint64_t desc_b, bool scale_d, const uint8_t* shared, uint32_t window,
                const float* lut) {
    for (int t = 0; t < kThreads; ++t) {
        for (int v = 0; v < kRegs; ++v) {
            int row, col;
            d_position(t, v, &row, &col);
            float sum = scale_d ? d[t][v] : 0.0f;
            for (int k = 0; k < kK; ++k) {
                uint32_t aa, ba;
                if (!operand_addr(desc_a, row, k, &aa) || !operand_addr(desc_b, col, k, &ba)) return false;
                if (aa >= window || ba >= window) return false;
                sum = sum + lut[shared[aa]] * lut[shared[ba]];
            }
            d[t][v] = sum;
        }
    }
    return true;
}

bool host_tile_wgmma(const Problem& p, int64_t row0, int64_t col0, const float* lut) {
    static thread_local std::vector<uint8_t> window(kWindow);
    std::fill(window.begin(), window.end(), kPoison);
    uint8_t* smem = window.data() + kBase;
    std::vector<Lane> lanes(kThreads);
    for (auto& l : lanes) clear(l);
    std::vector<float> d(static_cast<size_t>(kThreads) * kRegs);
    auto* dd = reinterpret_cast<float (*)[kRegs]>(d.data());
    for (int64_t ch = 0; ch < fp8gemm::chunks(p.k); ++ch) {
        for (int tid = 0; tid < kThreads; ++tid) stage(p, row0, col0, ch * kChunk, tid, smem);
        for (int t = 0; t < kThreads; ++t)
            for (int v = 0; v < kRegs; ++v) dd[t][v] = lanes[t].part[v];
        for (int kk = 0; kk < kChunk / kK; ++kk)
            if (!wgmma_host(dd, desc_a(kBase, kk), desc_b(kBase, kk), kk > 0, window.data(), kWindow, lut)) return false;
        for (int t = 0; t < kThreads; ++t)
            for (int v = 0; v < kRegs; ++v) lanes[t].part[v] = dd[t][v];
        for (int tid = 0; tid < kThreads; ++tid) promote(p, row0, col0, ch, tid, lanes[tid]);
    }
    for (int tid = 0; tid < kThreads; ++tid) store(p, row0, col0, tid, lanes[tid]);
    return true;
}

}  // namespace fp8wgmma
}  // namespace moe
