// FP8 E4M3 codec and block quantisation on CUDA (moe_fp8_quantize_cuda, moe_fp8_e4m3_decode_cuda in
// moe.h): the same results as the CPU calls, bit for bit, because the per-element arithmetic is the shared
// header fp8_codec.cuh (checked on the host by the testkit's codec self-test) and amax is a max over |x|
// bits (order-independent, so deterministic).
//
// Kernels:
//  - encode (MOE_FP8_BLOCK_NONE) / decode: grid-stride, 4 elements per thread (float4 / 32-bit code words) when the pointers
//    allow it, one element per thread otherwise;
//  - 1x128 tiles: one warp per (row, 128-column tile); each lane holds 4 values in registers, the warp
//    reduces amax with __reduce_max_sync, then encodes from the registers (x is read once);
//  - 128x128 tiles: one block of 8 warps per tile, warp w holding rows w, w+8, ..., w+120 in registers
//    (64 floats per thread); warp reduction, then a block reduction through shared memory.
// A row segment is loaded as one float4 per lane when it is a full 128 columns and 16-byte aligned (and
// its codes 4-byte aligned); otherwise lane l holds columns l, l+32, l+64, l+96 (still coalesced).
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_status.cuh"
#include "../shared/fp8_codec.cuh"
#include "moe/moe.h"

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTileCols = moe::fp8::kE4m3TileCols;
constexpr int kBigTileRows = 128;
constexpr int kRowsPerWarp = kBigTileRows / kWarps;  // 16
constexpr int64_t kMaxBlocks = int64_t{1} << 20;    // grid-stride beyond this
constexpr unsigned kFullMask = 0xffffffffu;

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// a * b, or -1 when it overflows int64 (both are >= 0).
int64_t checked_mul(int64_t a, int64_t b) {
    if (a != 0 && b > INT64_MAX / a) return -1;
    return a * b;
}

unsigned grid_for(int64_t work_items, int64_t per_block) {
    const int64_t blocks = ceil_div(work_items, per_block);
    return static_cast<unsigned>(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

bool aligned(const void* p, uintptr_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

__device__ __forceinline__ uint32_t pack4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return static_cast<uint32_t>(a) | (static_cast<uint32_t>(b) << 8) | (static_cast<uint32_t>(c) << 16) |
           (static_cast<uint32_t>(d) << 24);
}

// ---- codec ----

__global__ void encode_kernel(const float* __restrict__ in, uint8_t* __restrict__ out, int64_t n) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        out[i] = moe_e4m3_encode(in[i]);
    }
}

// in 16-byte aligned, out 4-byte aligned.
__global__ void encode4_kernel(const float* __restrict__ in, uint8_t* __restrict__ out, int64_t n) {
    const int64_t n4 = n / 4;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const float4* in4 = reinterpret_cast<const float4*>(in);
    uint32_t* out4 = reinterpret_cast<uint32_t*>(out);
    for (int64_t i = tid; i < n4; i += stride) {
        const float4 v = in4[i];
        out4[i] = pack4(moe_e4m3_encode(v.x), moe_e4m3_encode(v.y), moe_e4m3_encode(v.z), moe_e4m3_encode(v.w));
    }
    if (tid < n - 4 * n4) out[4 * n4 + tid] = moe_e4m3_encode(in[4 * n4 + tid]);
}

__global__ void decode_kernel(const uint8_t* __restrict__ in, float* __restrict__ out, int64_t n) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        out[i] = moe_e4m3_decode(in[i]);
    }
}

// in 4-byte aligned, out 16-byte aligned.
__global__ void decode4_kernel(const uint8_t* __restrict__ in, float* __restrict__ out, int64_t n) {
    const int64_t n4 = n / 4;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const uint32_t* in4 = reinterpret_cast<const uint32_t*>(in);
    float4* out4 = reinterpret_cast<float4*>(out);
    for (int64_t i = tid; i < n4; i += stride) {
        const uint32_t c = in4[i];
        out4[i] = make_float4(moe_e4m3_decode(static_cast<uint8_t>(c)), moe_e4m3_decode(static_cast<uint8_t>(c >> 8)),
                              moe_e4m3_decode(static_cast<uint8_t>(c >> 16)), moe_e4m3_decode(static_cast<uint8_t>(c >> 24)));
    }
    if (tid < n - 4 * n4) out[4 * n4 + tid] = moe_e4m3_decode(in[4 * n4 + tid]);
}

// ---- block quantisation ----

struct QuantParams {
    const float* x;
    int64_t rows;
    int64_t cols;
    int64_t tile_cols;  // ceil(cols / 128)
    bool pow2;
    uint8_t* q;
    float* scales;
    int32_t* nonfinite_flag;
};

// Whether one row segment of a tile, x[off, off + n) and q[off, off + n), can move as float4 / uint32.
__device__ __forceinline__ bool vector_segment(const QuantParams& p, int64_t off, int n) {
    return n == kTileCols && (reinterpret_cast<uintptr_t>(p.x + off) & 15u) == 0 &&
           (reinterpret_cast<uintptr_t>(p.q + off) & 3u) == 0;
}

// Loads one row segment (n <= 128 values; missing ones read as 0) into a lane's 4 registers and folds
// their |x| bits into m and their non-finiteness into bad.
__device__ __forceinline__ void load_segment(const QuantParams& p, int64_t off, int n, int lane, float (&v)[4],
                                             uint32_t& m, bool& bad) {
    if (vector_segment(p, off, n)) {
        const float4 t = reinterpret_cast<const float4*>(p.x + off)[lane];
        v[0] = t.x;
        v[1] = t.y;
        v[2] = t.z;
        v[3] = t.w;
    } else {
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int c = lane + 32 * k;
            v[k] = c < n ? p.x[off + c] : 0.0f;
        }
    }
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        const uint32_t a = moe::fp8::e4m3_bits_of(v[k]) & moe::fp8::kE4m3AbsMask;
        bad = bad || moe_e4m3_abs_bits_nonfinite(a);
        m = a > m ? a : m;
    }
}

// Encodes the lane's 4 registers of one row segment with scale s (same layout as load_segment).
__device__ __forceinline__ void store_segment(const QuantParams& p, int64_t off, int n, int lane, const float (&v)[4],
                                              float s) {
    if (vector_segment(p, off, n)) {
        reinterpret_cast<uint32_t*>(p.q + off)[lane] =
            pack4(moe_e4m3_quantize1(v[0], s), moe_e4m3_quantize1(v[1], s), moe_e4m3_quantize1(v[2], s),
                  moe_e4m3_quantize1(v[3], s));
    } else {
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int c = lane + 32 * k;
            if (c < n) p.q[off + c] = moe_e4m3_quantize1(v[k], s);
        }
    }
}

// One warp per (row, 128-column tile).
__global__ void __launch_bounds__(kThreads) quantize_1x128_kernel(QuantParams p) {
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int64_t tiles = p.rows * p.tile_cols;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kWarps;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5); t < tiles; t += stride) {
        const int64_t r = t / p.tile_cols;
        const int64_t c0 = (t % p.tile_cols) * kTileCols;
        const int n = static_cast<int>(p.cols - c0 < kTileCols ? p.cols - c0 : kTileCols);
        const int64_t off = r * p.cols + c0;
        float v[4];
        uint32_t m = 0;
        bool bad = false;
        load_segment(p, off, n, lane, v, m, bad);
        if (__any_sync(kFullMask, bad)) {
            if (lane == 0 && p.nonfinite_flag != nullptr) *p.nonfinite_flag = 1;
            continue;
        }
        m = __reduce_max_sync(kFullMask, m);
        const float s = moe_e4m3_tile_scale(m, p.pow2);
        if (lane == 0) p.scales[t] = s;
        store_segment(p, off, n, lane, v, s);
    }
}

// One block of 8 warps per 128x128 tile.
__global__ void __launch_bounds__(kThreads) quantize_128x128_kernel(QuantParams p) {
    __shared__ uint32_t warp_max[kWarps];
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int warp = static_cast<int>(threadIdx.x) >> 5;
    const int64_t tile_rows = ceil_div(p.rows, kBigTileRows);
    const int64_t tiles = tile_rows * p.tile_cols;
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t r0 = (t / p.tile_cols) * kBigTileRows;
        const int64_t c0 = (t % p.tile_cols) * kTileCols;
        const int n = static_cast<int>(p.cols - c0 < kTileCols ? p.cols - c0 : kTileCols);
        const int nr = static_cast<int>(p.rows - r0 < kBigTileRows ? p.rows - r0 : kBigTileRows);
        float v[kRowsPerWarp][4];
        uint32_t m = 0;
        bool bad = false;
#pragma unroll
        for (int i = 0; i < kRowsPerWarp; ++i) {
            const int rr = warp + kWarps * i;
            if (rr < nr) {
                load_segment(p, (r0 + rr) * p.cols + c0, n, lane, v[i], m, bad);
            } else {
                v[i][0] = v[i][1] = v[i][2] = v[i][3] = 0.0f;
            }
        }
        m = __reduce_max_sync(kFullMask, m);
        if (lane == 0) warp_max[warp] = m;
        const bool any_bad = __syncthreads_or(bad ? 1 : 0) != 0;  // also the barrier for warp_max
        if (any_bad) {
            if (threadIdx.x == 0 && p.nonfinite_flag != nullptr) *p.nonfinite_flag = 1;
        } else {
            uint32_t bm = warp_max[0];
#pragma unroll
            for (int w = 1; w < kWarps; ++w) bm = warp_max[w] > bm ? warp_max[w] : bm;
            const float s = moe_e4m3_tile_scale(bm, p.pow2);
            if (threadIdx.x == 0) p.scales[t] = s;
#pragma unroll
            for (int i = 0; i < kRowsPerWarp; ++i) {
                const int rr = warp + kWarps * i;
                if (rr < nr) store_segment(p, (r0 + rr) * p.cols + c0, n, lane, v[i], s);
            }
        }
        __syncthreads();  // warp_max is rewritten by the next tile
    }
}

int32_t launched() { return moe::cuda::fail(cudaGetLastError()); }

// Plain encoding of n > 0 values (MOE_FP8_BLOCK_NONE), 4 per thread when the pointers allow it.
int32_t encode(const float* in, uint8_t* out, int64_t n, cudaStream_t st) {
    if (aligned(in, 16) && aligned(out, 4)) {
        encode4_kernel<<<grid_for(n / 4 > 0 ? n / 4 : 1, kThreads), kThreads, 0, st>>>(in, out, n);
    } else {
        encode_kernel<<<grid_for(n, kThreads), kThreads, 0, st>>>(in, out, n);
    }
    return launched();
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_e4m3_decode_cuda(int32_t device, void* stream, const uint8_t* in, int64_t in_count, float* out,
                                 int64_t out_count) {
    if (in_count < 0 || in_count != out_count) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (in_count == 0) return MOE_STATUS_OK;
    if (in == nullptr || out == nullptr) return MOE_STATUS_NULL_POINTER;
    if (const int32_t s = moe::cuda::select_device(device); s != MOE_STATUS_OK) return s;
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    if (aligned(in, 4) && aligned(out, 16)) {
        decode4_kernel<<<grid_for(in_count / 4 > 0 ? in_count / 4 : 1, kThreads), kThreads, 0, st>>>(in, out, in_count);
    } else {
        decode_kernel<<<grid_for(in_count, kThreads), kThreads, 0, st>>>(in, out, in_count);
    }
    return launched();
}

int32_t moe_fp8_quantize_cuda(int32_t device, void* stream, const float* x, int64_t x_count, int64_t rows, int64_t cols,
                              int32_t block, int32_t pow2_scales, uint8_t* q, int64_t q_count, float* scales,
                              int64_t scales_count, int32_t* nonfinite_flag) {
    if (block != MOE_FP8_BLOCK_1X128 && block != MOE_FP8_BLOCK_128X128 && block != MOE_FP8_BLOCK_NONE)
        return MOE_STATUS_INVALID_CONFIG;
    if (pow2_scales != 0 && pow2_scales != 1) return MOE_STATUS_INVALID_CONFIG;
    if (block == MOE_FP8_BLOCK_NONE && pow2_scales != 0) return MOE_STATUS_INVALID_CONFIG;
    if (rows < 0 || cols < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t n = checked_mul(rows, cols);
    const int64_t tile_rows = block == MOE_FP8_BLOCK_1X128 ? 1 : kBigTileRows;
    const int64_t tile_cols = ceil_div(cols, kTileCols);
    const int64_t n_scales = block == MOE_FP8_BLOCK_NONE ? 0 : checked_mul(ceil_div(rows, tile_rows), tile_cols);
    if (n < 0 || x_count != n || q_count != n || scales_count != n_scales) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (n == 0) return MOE_STATUS_OK;
    if (x == nullptr || q == nullptr || (n_scales > 0 && scales == nullptr)) return MOE_STATUS_NULL_POINTER;
    if (const int32_t s = moe::cuda::select_device(device); s != MOE_STATUS_OK) return s;
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    if (block == MOE_FP8_BLOCK_NONE) return encode(x, q, n, st);
    const QuantParams p{x, rows, cols, tile_cols, pow2_scales == 1, q, scales, nonfinite_flag};
    if (block == MOE_FP8_BLOCK_1X128) {
        quantize_1x128_kernel<<<grid_for(n_scales, kWarps), kThreads, 0, st>>>(p);
    } else {
        quantize_128x128_kernel<<<grid_for(n_scales, 1), kThreads, 0, st>>>(p);
    }
    return launched();
}

}  // extern "C"
#pragma GCC visibility pop
