// MOE_GEMM_KERNEL_WGMMA_TMA (moe.h): the Hopper FP8 block-scaled GEMM, dense and grouped, as a persistent,
// warp-specialised kernel fed by TMA: the roles of shared/fp8_gemm_wgmma_pipeline.cuh on the device. Here
// live the device Ops (mbarriers, cp.async.bulk.tensor, wgmma, setmaxnreg) and the host side (tensor maps
// made through the driver entry point that cudart exposes, so the library still links no libcuda).
#include <cuda.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "../shared/fp8_gemm_wgmma_pipeline.cuh"
#include "cuda_status.cuh"
#include "fp8_gemm_launch.cuh"
#include "moe/moe.h"

namespace {

namespace g = moe::fp8gemm;
namespace wg = moe::fp8wgmma;
namespace pp = moe::fp8wgmma::pipe;

// Dynamic shared memory: the stages and barriers plus slack to start them on a 1024-byte boundary.
constexpr uint32_t kDynamicSmem = pp::kSmemBytes + wg::kSmemAlign;

#if defined(MOE_FP8_WGMMA)
constexpr uint32_t kProducerRegs = 40;   // setmaxnreg: the producer warpgroup gives registers to the consumers
constexpr uint32_t kConsumerRegs = 232;  // 40 + 2 x 232 = 504 per thread triple, 64 512 of the SM's 65 536
// setmaxnreg.inc waits until the block's pool has the registers: what the consumers ask for must not
// exceed what the launch bounds give all three warpgroups (168 each: 65 536 / 384, rounded down to 8).
static_assert(kProducerRegs % 8 == 0 && kConsumerRegs % 8 == 0 && kProducerRegs >= 24 && kConsumerRegs <= 256,
              "setmaxnreg takes multiples of 8 in [24, 256]");
static_assert(kProducerRegs + pp::kConsumers * kConsumerRegs <= (65536 / pp::kThreads) / 8 * 8 * (1 + pp::kConsumers),
              "the consumers cannot take more registers than the producer gives up");

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

__device__ __forceinline__ bool mbar_try_wait(uint32_t bar, uint32_t parity) {
    uint32_t done = 0;
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
    return done != 0;
}

#if defined(MOE_CUDA_DEBUG_WAITS)
constexpr uint64_t kWaitLimitNs = 2000000000ull;  // a wait this long is a hang: a wrong parity, count or byte total

__device__ __forceinline__ uint64_t global_ns() {
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;\n" : "=l"(t));
    return t;
}
#endif

// Waits until the phase of `parity` of the barrier completed. With MOE_CUDA_DEBUG_WAITS the wait is
// bounded: past ~2 s the waiter (role 0 the producer, 1.. the consumer warpgroups; which barrier, stage,
// parity, tile) is printed and the kernel traps, so a broken hand-off ends the launch with an error
// instead of hanging the device.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity, const char* which, int role, uint32_t stage,
                                          int64_t tile) {
#if defined(MOE_CUDA_DEBUG_WAITS)
    const uint64_t start = global_ns();
    while (!mbar_try_wait(bar, parity)) {
        if (global_ns() - start > kWaitLimitNs) {
            printf("moe: mbarrier wait timed out: block %d thread %d role %d (%s) barrier %s stage %u parity %u tile %lld\n",
                   static_cast<int>(blockIdx.x), static_cast<int>(threadIdx.x), role, role == 0 ? "producer" : "consumer",
                   which, stage, parity, static_cast<long long>(tile));
            __trap();
        }
    }
#else
    (void)which;
    (void)role;
    (void)stage;
    (void)tile;
    while (!mbar_try_wait(bar, parity)) {
    }
#endif
}

__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}

// One box (128 bytes of K x 128 rows) of a 2-D tensor map into shared memory, completing on bar.
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap* map, int32_t k0, int32_t row, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(k0), "r"(row), "r"(bar)
        : "memory");
}

// The device's side of the pipeline roles: one thread's view.
struct DeviceOps {
    uint32_t smem;  // shared address of the 1024-aligned stages
    const CUtensorMap* map_a;
    const CUtensorMap* map_b;
    int tid;        // within the warpgroup
    wg::Lane lane;
    int role;           // warpgroup: 0 the producer, 1.. the consumers
    int64_t tile = -1;  // the tile being worked on (reported by a timed-out wait)

    __device__ uint32_t full(uint32_t st) const { return smem + pp::kBarrierOffset + 8 * st; }
    __device__ uint32_t empty(uint32_t st) const { return smem + pp::kBarrierOffset + 8 * (pp::kStages + st); }
    __device__ uint32_t stage(uint32_t st) const { return smem + st * pp::kStageBytes; }

    __device__ void begin_tile(int64_t t) { tile = t; }
    __device__ void wait_empty(uint32_t st, uint32_t parity) { mbar_wait(empty(st), parity, "empty", role, st, tile); }
    __device__ void wait_full(uint32_t st, uint32_t parity) { mbar_wait(full(st), parity, "full", role, st, tile); }

    __device__ void load(uint32_t st, int64_t a_row, int64_t b_row, int64_t k0) {
        mbar_arrive_expect_tx(full(st), pp::kStageBytes);
        tma_load(stage(st), map_a, static_cast<int32_t>(k0), static_cast<int32_t>(a_row), full(st));
        tma_load(stage(st) + pp::kATileBytes, map_b, static_cast<int32_t>(k0), static_cast<int32_t>(b_row), full(st));
    }

    __device__ void mma(uint32_t st, int w) {
        const uint32_t a = stage(st) + static_cast<uint32_t>(w) * pp::kSlice * wg::kRowBytes;
        const uint32_t b = stage(st) + pp::kATileBytes;
        wg::fence_regs(lane.part);
        asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
        for (int kk = 0; kk < wg::kChunk / wg::kK; ++kk) wg::wgmma_m64n128k32(lane.part, wg::desc_at(a, kk), wg::desc_at(b, kk), kk > 0 ? 1u : 0u);
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        wg::fence_regs(lane.part);
    }

    __device__ void release(uint32_t st) {
        __syncwarp();
        if (tid % 32 == 0) mbar_arrive(empty(st));
    }

    template <class F>
    __device__ void each(F f) {
        f(tid, lane);
    }
};
#endif

__global__ void __launch_bounds__(pp::kThreads, 1)
    gemm_tma_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
                    const __grid_constant__ pp::Schedule s) {
#if defined(MOE_FP8_WGMMA)
    extern __shared__ uint8_t smem_raw[];
    const uint32_t raw = smem_u32(smem_raw);
    const uint32_t base = raw + (wg::kSmemAlign - raw % wg::kSmemAlign) % wg::kSmemAlign;
    const int warpgroup = static_cast<int>(threadIdx.x) / 128;
    DeviceOps ops{base, &map_a, &map_b, static_cast<int>(threadIdx.x) % 128, {}, warpgroup};
    if (threadIdx.x == 0) {
        for (uint32_t st = 0; st < pp::kStages; ++st) {
            mbar_init(ops.full(st), 1);
            mbar_init(ops.empty(st), pp::kEmptyArrivals);
        }
        // The barriers are used by the async proxy (TMA's complete_tx) as well.
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();
    if (warpgroup == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegs));
        if (threadIdx.x == 0) {
            asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&map_a)) : "memory");
            asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(&map_b)) : "memory");
            pp::produce(ops, s, blockIdx.x, gridDim.x);
        }
    } else {
        asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegs));
        pp::consume(ops, s, blockIdx.x, gridDim.x, warpgroup - 1);
    }
#else
    (void)map_a;
    (void)map_b;
    (void)s;
    __trap();  // not compiled for sm_90a: the host entry refuses such devices
#endif
}

// cuTensorMapEncodeTiled from the driver through cudart (null when the driver lacks it).
PFN_cuTensorMapEncodeTiled_v12000 encode_tiled() {
    static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult q{};
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            q != cudaDriverEntryPointSuccess) {
            cudaGetLastError();
            return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
        }
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
    }();
    return fn;
}

// The map of a row-major [rows, k] code matrix read in 128 x 128-byte boxes, 128B-swizzled as the wgmma
// descriptors expect, zeros past its edges.
int32_t make_map(CUtensorMap* map, const uint8_t* codes, int64_t rows, int64_t k) {
    const PFN_cuTensorMapEncodeTiled_v12000 encode = encode_tiled();
    if (encode == nullptr) return MOE_STATUS_UNSUPPORTED_GPU;
    const cuuint64_t dims[2] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(rows)};
    const cuuint64_t strides[1] = {static_cast<cuuint64_t>(k)};
    const cuuint32_t box[2] = {wg::kRowBytes, pp::kBm};
    const cuuint32_t element_strides[2] = {1, 1};
    const CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<uint8_t*>(codes), dims, strides, box,
                              element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? MOE_STATUS_OK : MOE_STATUS_CUDA_ERROR;
}

static_assert(pp::kBm == pp::kBn, "one box shape serves A and B");

// Once per device (the answers do not change): its SM count into *sms, and the kernel's shared-memory
// opt-in. Concurrent first calls do the same work twice, harmlessly.
int32_t prepare(int32_t device, int* sms) {
    constexpr int kDevices = 64;
    static std::atomic<int> known[kDevices];
    if (device >= 0 && device < kDevices && (*sms = known[device].load(std::memory_order_relaxed)) > 0) return MOE_STATUS_OK;
    if (const int32_t st = moe::cuda::fail(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, device)); st != MOE_STATUS_OK)
        return st;
    if (const int32_t st = moe::cuda::fail(cudaFuncSetAttribute(gemm_tma_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                                static_cast<int>(kDynamicSmem)));
        st != MOE_STATUS_OK)
        return st;
    if (device >= 0 && device < kDevices) known[device].store(*sms, std::memory_order_relaxed);
    return MOE_STATUS_OK;
}

// Whether TMA can describe the operands: 16-byte aligned bases and row strides, coordinates in int32. The
// entries hand other shapes to the single-warpgroup wgmma kernel, which gives the same bits.
bool tma_describable(const uint8_t* a, const uint8_t* b, int64_t a_rows, int64_t b_rows, int64_t k) {
    const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    return k > 0 && k % 16 == 0 && aligned(a) && aligned(b) && a_rows < INT32_MAX && b_rows < INT32_MAX && k < INT32_MAX;
}

// The persistent grid's cap: -1 not read yet, 0 none, else at most that many blocks.
std::atomic<int64_t> grid_cap{-1};

// Blocks of a persistent launch over `tiles` tiles: one per SM, no more than there are tiles, and no more
// than the cap (set_persistent_grid_cap, else the environment variable MOE_CUDA_GRID_CAP, read at the first
// launch), with which a small grid makes each block walk many tiles.
int64_t persistent_blocks(int64_t tiles, int sms) {
    int64_t cap = grid_cap.load(std::memory_order_relaxed);
    if (cap < 0) {
        const char* v = std::getenv("MOE_CUDA_GRID_CAP");
        char* end = nullptr;
        const long long parsed = v != nullptr ? std::strtoll(v, &end, 10) : 0;
        cap = v != nullptr && end != v && *end == '\0' && parsed > 0 ? parsed : 0;
        int64_t unset = -1;
        grid_cap.compare_exchange_strong(unset, cap, std::memory_order_relaxed);
        cap = grid_cap.load(std::memory_order_relaxed);
    }
    int64_t blocks = tiles < sms ? tiles : sms;
    if (cap > 0 && blocks > cap) blocks = cap;
    return blocks;
}

}  // namespace

namespace moe {
namespace cuda {

void set_persistent_grid_cap(int64_t blocks) { grid_cap.store(blocks > 0 ? blocks : 0, std::memory_order_relaxed); }

int32_t wgmma_tma_launch(int32_t device, cudaStream_t stream, const pp::Schedule& s, int64_t num_groups) {
    CUtensorMap map_a{}, map_b{};
    if (const int32_t st = make_map(&map_a, s.base.a, pp::a_rows(s, num_groups), s.base.k); st != MOE_STATUS_OK) return st;
    if (const int32_t st = make_map(&map_b, s.base.b, pp::b_rows(s, num_groups), s.base.k); st != MOE_STATUS_OK) return st;
    int sms = 0;
    if (const int32_t st = prepare(device, &sms); st != MOE_STATUS_OK) return st;
    const int64_t grid = persistent_blocks(pp::tiles(s), sms);
    gemm_tma_kernel<<<static_cast<unsigned>(grid), pp::kThreads, kDynamicSmem, stream>>>(map_a, map_b, s);
    return moe::cuda::fail(cudaGetLastError());
}

int32_t gemm_wgmma_tma(const g::Call& c) {
    if (!tma_describable(c.a, c.b, c.m, c.groups * c.n, c.k)) return gemm_wgmma(c);
    const cudaStream_t st = static_cast<cudaStream_t>(c.stream);
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS:
            if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
            if (const int32_t s = require_wgmma_tma(c.device); s != MOE_STATUS_OK) return s;
            return g::for_each_launch(
                c.groups, c.offsets, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c,
                [&](const g::Problem& base, const g::Groups& groups, int64_t b_stride, int64_t sb_stride, int64_t row_tiles) {
                    return wgmma_tma_launch(c.device, st, pp::contiguous_schedule(base, groups, b_stride, sb_stride, row_tiles),
                                            groups.count);
                },
                pp::kBm);
        case MOE_GEMM_LAYOUT_GROUPED_MASKED:
            if (c.groups == 0 || c.max_m == 0 || c.n == 0) return MOE_STATUS_OK;
            if (const int32_t s = require_wgmma_tma(c.device); s != MOE_STATUS_OK) return s;
            return wgmma_tma_launch(c.device, st,
                                    pp::masked_schedule(g::Problem{0, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c}, c.groups, c.max_m, c.counts),
                                    c.groups);
        default:
            if (c.m == 0 || c.n == 0) return MOE_STATUS_OK;
            if (const int32_t s = require_wgmma_tma(c.device); s != MOE_STATUS_OK) return s;
            return wgmma_tma_launch(c.device, st, pp::dense_schedule(g::Problem{c.m, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c}), 1);
    }
}

int32_t require_wgmma_tma(int32_t device) { return require_wgmma(device); }

}  // namespace cuda
}  // namespace moe

