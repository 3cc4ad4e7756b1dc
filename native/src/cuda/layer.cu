// One MoE layer forward on the GPU (moe_layer_forward_cuda in moe.h): the steps of shared/moe_layer.cuh
// enqueued on one stream with nothing read back by the host, so the whole layer can be captured into a
// CUDA graph. The gate, FP8 quantisation and dense GEMM are the library's own kernels (gate.cu,
// fp8_quantize.cu, fp8_gemm.cu); the kernels here are the glue between them. Each runs the per-thread
// code that testkit/layer_cuda_host.cpp runs on the host.
#include <cuda_runtime.h>

#include <cstdint>

#include "../shared/fp8_gemm_mma.cuh"
#include "../shared/moe_layer.cuh"
#include "cuda_status.cuh"
#include "fp8_gemm_launch.cuh"
#include "moe/moe.h"

namespace {

namespace L = moe::layer;
namespace g = moe::fp8gemm;
namespace pp = moe::fp8wgmma::pipe;

constexpr int64_t kMaxGrid = 0x7fffffffLL;
constexpr int64_t kStrideBlocks = int64_t{1} << 16;  // grid-stride kernels use at most this many blocks

__global__ void __launch_bounds__(L::kThreads) logits_kernel(L::Shape s, const float* x, const float* w, float* logits) {
    __shared__ float xs[L::kLogitK][L::kLogitTile];
    __shared__ float ws[L::kLogitK][L::kLogitTile];
    const int tid = static_cast<int>(threadIdx.x);
    const int64_t t0 = static_cast<int64_t>(blockIdx.x) * L::kLogitTile;
    const int64_t e0 = static_cast<int64_t>(blockIdx.y) * L::kLogitTile;
    L::LogitAccum acc{};
    for (int64_t h0 = 0; h0 < s.h; h0 += L::kLogitK) {
        __syncthreads();  // the previous slice is consumed
        L::logits_load(x, w, s, t0, e0, h0, tid, xs, ws);
        __syncthreads();
        L::logits_compute(tid, static_cast<int>(s.h - h0 < L::kLogitK ? s.h - h0 : L::kLogitK), xs, ws, acc);
    }
    L::logits_store(s, t0, e0, tid, acc, logits);
}

__global__ void __launch_bounds__(L::kThreads) plan_count_kernel(L::Shape s, const int32_t* ids, int32_t* counts) {
    for (int64_t e = threadIdx.x; e < s.n; e += blockDim.x) L::plan_count(ids, s, blockIdx.x, e, counts);
}

__global__ void __launch_bounds__(L::kThreads) plan_scan_kernel(L::Shape s, int32_t* counts, int64_t* offsets,
                                                                int64_t* tiles) {
    for (int64_t e = threadIdx.x; e < s.n; e += blockDim.x) L::plan_scan_expert(s, e, counts, offsets + 1);
    __syncthreads();
    if (threadIdx.x == 0) L::plan_offsets(s, offsets, tiles);
}

__global__ void __launch_bounds__(L::kThreads) plan_rank_kernel(L::Shape s, const int32_t* ids, const int32_t* counts,
                                                                const int64_t* offsets, int32_t* row_of) {
    for (int64_t e = threadIdx.x; e < s.n; e += blockDim.x) L::plan_rank(ids, s, blockIdx.x, e, counts, offsets, row_of);
}

// Block a (grid-stride) copies assignment a's FP8 row and its scales.
__global__ void __launch_bounds__(L::kThreads) gather_kernel(L::Shape s, const uint8_t* xq, const float* xqs,
                                                             const int32_t* row_of, uint8_t* xp, float* xps) {
    const int64_t hc = g::chunks(s.h);
    // 16 bytes per thread when rows keep uint4 alignment (the workspace is 256-byte aligned): the same bytes
    // as gather_bytes, a sixteenth of the instructions.
    const bool wide = s.h % 16 == 0;
    for (int64_t a = blockIdx.x; a < s.rows(); a += gridDim.x) {
        const int32_t r = row_of[a];
        if (wide && r >= 0) {
            const uint4* src = reinterpret_cast<const uint4*>(xq + (a / s.k) * s.h);
            uint4* dst = reinterpret_cast<uint4*>(xp + static_cast<int64_t>(r) * s.h);
            for (int64_t c = threadIdx.x; c < s.h / 16; c += blockDim.x) dst[c] = src[c];
        } else {
            for (int64_t c = threadIdx.x; c < s.h; c += blockDim.x) L::gather_bytes(s, a, c, xq, row_of, xp);
        }
        for (int64_t c = threadIdx.x; c < hc; c += blockDim.x) L::gather_scale(s, a, c, xqs, row_of, xps);
    }
}

// blockIdx.x walks the worst-case row tiles (R / 64 + N); tiles past the last exit at once. TC: the
// tensor-core tile (128 threads) instead of the exact CUDA-core one (256). One block per SM as the bound:
// with the default, ptxas caps the exact tile at 80 registers and spills.
template <bool TC>
__global__ void __launch_bounds__(TC ? moe::fp8mma::kThreads : g::kThreads, 1) grouped_kernel(g::Problem base, const int64_t* offsets,
                                                                                         const int64_t* tiles, int64_t n_groups) {
    g::Problem p;
    int64_t row0;
    if (!L::grouped_tile(base, offsets, tiles, n_groups, blockIdx.x, &p, &row0)) return;
    if constexpr (TC) {
        moe::fp8mma::run_tile_mma(p, row0, static_cast<int64_t>(blockIdx.y) * g::kBn);
    } else {
        g::run_tile(p, row0, static_cast<int64_t>(blockIdx.y) * g::kBn);
    }
}

__global__ void __launch_bounds__(L::kThreads) swiglu_kernel(int64_t bound, int64_t width, const int64_t* rows_at,
                                                             const float* h13, float* act) {
    const int64_t rows = rows_at != nullptr ? *rows_at : bound;
    const int64_t total = bound * width;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        L::swiglu_at(i / width, i % width, rows, width, h13, act);
}

__global__ void __launch_bounds__(L::kThreads) combine_kernel(L::Shape s, const float* w, const int32_t* row_of,
                                                              const float* y, const float* shared, float* out) {
    const int64_t total = s.t * s.h;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        L::combine_at(s, i / s.h, i % s.h, w, row_of, y, shared, out);
}

unsigned stride_grid(int64_t items) {
    const int64_t blocks = (items + L::kThreads - 1) / L::kThreads;
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks < kStrideBlocks ? blocks : kStrideBlocks));
}

int32_t launched() { return moe::cuda::fail(cudaGetLastError()); }

// The executor of L::forward that enqueues kernels on one stream.
struct DeviceExec {
    int32_t device;
    cudaStream_t stream;

    int32_t start(int64_t* diagnostics) {
        return moe::cuda::fail(cudaMemsetAsync(diagnostics, 0, 4 * sizeof(int64_t), stream));
    }

    int32_t logits(const L::Shape& s, const float* x, const float* w, float* out) {
        const int64_t tt = L::ceil_div(s.t, L::kLogitTile);
        const int64_t et = L::ceil_div(s.n, L::kLogitTile);
        if (tt > kMaxGrid || et > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
        logits_kernel<<<dim3(static_cast<unsigned>(tt), static_cast<unsigned>(et)), L::kThreads, 0, stream>>>(s, x, w, out);
        return launched();
    }

    int32_t gate(const moe_gate_config& c, const L::Shape& s, const float* logits, const float* bias, int32_t* ids,
                 float* weights, int64_t* load, int64_t* diagnostics) {
        return moe_gate_cuda(device, stream, &c, logits, s.t * s.n, bias, bias != nullptr ? s.n : 0, s.t, ids, s.t * s.k,
                             weights, s.t * s.k, load, load != nullptr ? s.n : 0, diagnostics);
    }

    int32_t quantize_rows(const float* x, int64_t rows, int64_t cols, uint8_t* q, float* scales, int32_t* flag) {
        return moe_fp8_quantize_cuda(device, stream, x, rows * cols, rows, cols, MOE_FP8_BLOCK_1X128, 0, q, rows * cols,
                                     scales, rows * g::chunks(cols), flag);
    }

    int32_t plan(const L::Shape& s, const int32_t* ids, int32_t* counts, int64_t* offsets, int64_t* tiles, int32_t* row_of) {
        const int64_t chunks = s.plan_chunks();
        if (chunks > kMaxGrid) return MOE_STATUS_BAD_BUFFER_SIZE;
        plan_count_kernel<<<static_cast<unsigned>(chunks), L::kThreads, 0, stream>>>(s, ids, counts);
        plan_scan_kernel<<<1, L::kThreads, 0, stream>>>(s, counts, offsets, tiles);
        plan_rank_kernel<<<static_cast<unsigned>(chunks), L::kThreads, 0, stream>>>(s, ids, counts, offsets, row_of);
        return launched();
    }

    int32_t gather(const L::Shape& s, const uint8_t* xq, const float* xqs, const int32_t* row_of, uint8_t* xp, float* xps) {
        const int64_t blocks = s.rows() < kStrideBlocks ? s.rows() : kStrideBlocks;
        gather_kernel<<<static_cast<unsigned>(blocks), L::kThreads, 0, stream>>>(s, xq, xqs, row_of, xp, xps);
        return launched();
    }

    int32_t grouped_gemm(const L::Shape& s, int64_t rows, int64_t n, int64_t k, const int64_t* offsets, const int64_t* tiles,
                         const uint8_t* a, const float* sa, const uint8_t* b, const float* sb, float* c) {
        if (s.wgmma) {
            // Hopper: the persistent TMA-fed kernel over the 128-row tile prefix plan_offsets wrote after the 64-row one.
            const g::Problem base{0, n, k, a, sa, b, sb, c};
            return moe::cuda::wgmma_tma_launch(device, stream, pp::routed_schedule(base, s.n, rows, offsets, tiles + s.n + 1), s.n);
        }
        const int64_t row_tiles = L::ceil_div(rows, g::kBm) + s.n;
        const int64_t col_tiles = L::ceil_div(n, g::kBn);
        if (row_tiles > kMaxGrid || col_tiles > 65535) return MOE_STATUS_BAD_BUFFER_SIZE;
        const g::Problem base{0, n, k, a, sa, b, sb, c};
        const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(col_tiles));
        if (s.tc) {
            grouped_kernel<true><<<grid, moe::fp8mma::kThreads, 0, stream>>>(base, offsets, tiles, s.n);
        } else {
            grouped_kernel<false><<<grid, g::kThreads, 0, stream>>>(base, offsets, tiles, s.n);
        }
        return launched();
    }

    int32_t gemm(const L::Shape& s, int64_t m, int64_t n, int64_t k, const uint8_t* a, const float* sa, const uint8_t* b,
                 const float* sb, float* c) {
        const g::Call call{s.wgmma ? MOE_GEMM_KERNEL_WGMMA_TMA : s.tc ? MOE_GEMM_KERNEL_MMA : MOE_GEMM_KERNEL_EXACT,
                           MOE_GEMM_LAYOUT_DENSE, m, n, k, 1, 0, nullptr, nullptr, a, sa, b, sb, c, device, stream};
        return s.wgmma ? moe::cuda::gemm_wgmma_tma(call) : moe::cuda::gemm_cuda_cores(call, s.tc);
    }

    int32_t swiglu(int64_t bound, int64_t width, const int64_t* rows_at, const float* h13, float* act) {
        swiglu_kernel<<<stride_grid(bound * width), L::kThreads, 0, stream>>>(bound, width, rows_at, h13, act);
        return launched();
    }

    int32_t combine(const L::Shape& s, const float* w, const int32_t* row_of, const float* y, const float* shared, float* out) {
        combine_kernel<<<stride_grid(s.t * s.h), L::kThreads, 0, stream>>>(s, w, row_of, y, shared, out);
        return launched();
    }
};

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_layer_forward_cuda(int32_t device, void* stream, const moe_layer_args* args) {
    L::Shape s;
    if (const int32_t st = L::shape_of(args, &s); st != MOE_STATUS_OK) return st;
    if (const int32_t st = L::check_pointers(*args, s); st != MOE_STATUS_OK) return st;
    if (s.t == 0) return MOE_STATUS_OK;
    if (const int32_t st = moe::cuda::select_device(device); st != MOE_STATUS_OK) return st;
    if (s.tc)
        if (const int32_t st = moe::cuda::require_tensor_cores(device); st != MOE_STATUS_OK) return st;
    if (s.wgmma)
        if (const int32_t st = moe::cuda::require_wgmma_tma(device); st != MOE_STATUS_OK) return st;
    DeviceExec ex{device, static_cast<cudaStream_t>(stream)};
    return L::forward(ex, *args, s);
}

}  // extern "C"
#pragma GCC visibility pop
