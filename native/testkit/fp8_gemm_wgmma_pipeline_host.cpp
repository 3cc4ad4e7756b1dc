// The pipelined Hopper kernel (shared/fp8_gemm_wgmma_pipeline.cuh) on the host: the very produce / consume
// code of the device, run against host Ops.
//
// Each block's three roles (producer, consumer warpgroups 0 and 1) are threads of which exactly one runs
// at a time: a role keeps the turn until it must wait on a barrier whose phase has not completed, or (a
// consumer) has just released a stage, then passes it on. The consumers start, so a consumer whose wait passed too early would read a stage no TMA
// has filled (poisoned with E4M3 NaN) or an older chunk, and a producer whose wait passed too early would
// overwrite a chunk before it is consumed: both change results, and a wait no one can satisfy is reported
// as a deadlock. Barriers follow the PTX rules (arrivals and transaction bytes complete a phase; a wait on
// a parity passes once the phase of that parity completed), the TMA box copy applies the 128B swizzle to
// shared-memory addresses as the tensor map's CU_TENSOR_MAP_SWIZZLE_128B does, and each wgmma is decoded
// from its descriptors (fp8_gemm_wgmma_host.cpp).
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda_host.hpp"
#include "moe/moe.h"

namespace moe {
namespace fp8wgmma {
namespace pipe {
namespace {

constexpr uint32_t kBase = 2 * kSmemAlign;                     // the block's stages inside the window
constexpr uint32_t kWindow = kBase + kBarrierOffset + kSmemAlign;  // poisoned bytes around them
constexpr uint8_t kPoison = 0x7F;                              // E4M3 NaN
constexpr int kRoles = 1 + kConsumers;

// Thrown into a role when the emulation finds the kernel wrong (deadlock, barrier misuse, bad descriptor).
struct Fault {};

// An mbarrier: `expected` arrivals and zero pending transaction bytes complete the current phase.
struct Barrier {
    uint32_t expected = 0;
    uint32_t pending = 0;
    int64_t tx = 0;
    uint32_t completed = 0;  // phases completed so far; the current phase has parity completed % 2

    void init(uint32_t count) { expected = pending = count; }
    void settle() {
        if (pending == 0 && tx == 0) {
            ++completed;
            pending = expected;
        }
    }
    void arrive() {
        if (pending == 0) throw Fault{};
        --pending;
        settle();
    }
    void expect_tx(uint32_t bytes) { tx += bytes; }
    void complete_tx(uint32_t bytes) {
        tx -= bytes;
        if (tx < 0) throw Fault{};
        settle();
    }
    // mbarrier.try_wait.parity: the phase of this parity is the preceding one, hence complete.
    bool passed(uint32_t parity) const { return (completed & 1u) != parity; }
};

// One block's shared state; only the role holding the turn touches it (the mutex hands it over).
struct Block {
    std::vector<uint8_t> window = std::vector<uint8_t>(kWindow, kPoison);
    Barrier full[kStages], empty[kStages];
    std::mutex mu;
    std::condition_variable cv;
    int turn = 1;  // consumers first
    bool finished[kRoles] = {};
    bool failed = false;
    int idle_passes = 0;  // turn changes since a barrier last changed

    // Gives the turn to the next unfinished role and waits until it comes back; a full round of passes
    // with no barrier change is a deadlock.
    void pass(int role) {
        std::unique_lock<std::mutex> lock(mu);
        if (++idle_passes > 2 * kRoles) failed = true;
        next(role);
        cv.wait(lock, [&] { return turn == role || failed; });
        if (failed) throw Fault{};
    }
    void next(int role) {
        for (int i = 1; i <= kRoles; ++i) {
            const int r = (role + i) % kRoles;
            if (!finished[r]) {
                turn = r;
                break;
            }
        }
        cv.notify_all();
    }
    void start(int role) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return turn == role || failed; });
        if (failed) throw Fault{};
    }
    void finish(int role, bool ok) {
        std::lock_guard<std::mutex> lock(mu);
        finished[role] = true;
        if (!ok) failed = true;
        next(role);
    }
    void changed() { idle_passes = 0; }
};

// A [rows, k] byte tensor a launch cuts boxes from (what a CUtensorMap describes).
struct Tensor {
    const uint8_t* codes;
    int64_t rows;
    int64_t k;
};

// cp.async.bulk.tensor.2d of the box (128 bytes of K) x (128 rows) at (k0, row0) to shared address dst with
// CU_TENSOR_MAP_SWIZZLE_128B: box row r fills bytes [128 r, 128 r + 128) and the swizzle XORs address bits
// [4, 7) with bits [7, 10); elements outside the tensor arrive as 0.
void tma_box(uint8_t* window, uint32_t dst, const Tensor& t, int64_t k0, int64_t row0) {
    for (uint32_t r = 0; r < kBm; ++r) {
        for (uint32_t c = 0; c < kRowBytes; ++c) {
            uint32_t addr = dst + r * kRowBytes + c;
            addr ^= ((addr >> 7) & 7u) << 4;
            const int64_t row = row0 + r;
            const int64_t k = k0 + c;
            window[addr] = row < t.rows && k < t.k ? t.codes[row * t.k + k] : uint8_t{0};
        }
    }
}

struct HostOps {
    Block& b;
    int role;
    Tensor a, bt;
    const float* lut;
    std::vector<Lane> lanes = std::vector<Lane>(128);

    void wait(const Barrier& bar, uint32_t parity) {
        while (!bar.passed(parity)) b.pass(role);
    }
    void wait_empty(uint32_t st, uint32_t parity) { wait(b.empty[st], parity); }
    void wait_full(uint32_t st, uint32_t parity) { wait(b.full[st], parity); }

    void load(uint32_t st, int64_t a_row, int64_t b_row, int64_t k0) {
        Barrier& full = b.full[st];
        full.expect_tx(kStageBytes);  // mbarrier.arrive.expect_tx: the bytes first, then the arrival
        full.arrive();
        const uint32_t stage = kBase + st * kStageBytes;
        tma_box(b.window.data(), stage, a, k0, a_row);
        full.complete_tx(kATileBytes);
        tma_box(b.window.data(), stage + kATileBytes, bt, k0, b_row);
        full.complete_tx(kBTileBytes);
        b.changed();  // the producer runs on until the ring is full: a consumer still reading a stage it refills sees that
    }

    void mma(uint32_t st, int w) {
        const uint32_t stage = kBase + st * kStageBytes;
        const uint32_t a_tile = stage + static_cast<uint32_t>(w) * kSlice * kRowBytes;
        std::vector<float> d(static_cast<size_t>(128) * kRegs);
        auto* dd = reinterpret_cast<float (*)[kRegs]>(d.data());
        for (int t = 0; t < 128; ++t)
            for (int v = 0; v < kRegs; ++v) dd[t][v] = lanes[t].part[v];
        for (int kk = 0; kk < kChunk / kK; ++kk)
            if (!wgmma_host(dd, desc_at(a_tile, kk), desc_at(stage + kATileBytes, kk), kk > 0, b.window.data(), kWindow, lut))
                throw Fault{};
        for (int t = 0; t < 128; ++t)
            for (int v = 0; v < kRegs; ++v) lanes[t].part[v] = dd[t][v];
    }

    void release(uint32_t st) {
        for (int warp = 0; warp < 4; ++warp) b.empty[st].arrive();
        b.changed();
        b.pass(role);  // the producer may refill the stage now: anything still reading it would see that
    }

    void begin_tile(int64_t) {}  // the emulation reports a hang as a deadlock at once

    template <class F>
    void each(F f) {
        for (int t = 0; t < 128; ++t) f(t, lanes[t]);
    }
};

bool run_block(const Schedule& s, const Tensor& a, const Tensor& b, int64_t block, int64_t blocks, const float* lut) {
    Block blk;
    for (int st = 0; st < kStages; ++st) {
        blk.full[st].init(1);
        blk.empty[st].init(kEmptyArrivals);
    }
    std::vector<std::thread> roles;
    for (int role = 0; role < kRoles; ++role) {
        roles.emplace_back([&, role] {
            bool ok = true;
            try {
                blk.start(role);
                HostOps ops{blk, role, a, b, lut};
                if (role == 0)
                    produce(ops, s, block, blocks);
                else
                    consume(ops, s, block, blocks, role - 1);
            } catch (const Fault&) {
                ok = false;
            }
            blk.finish(role, ok);
        });
    }
    for (auto& t : roles) t.join();
    // Every chunk loaded into a stage was released by both consumers, and nothing else was.
    for (int st = 0; st < kStages; ++st)
        if (blk.full[st].completed != blk.empty[st].completed || blk.full[st].tx != 0) blk.failed = true;
    return !blk.failed;
}

}  // namespace

bool host_launch(const Schedule& s, int64_t num_groups, int64_t blocks, const float* lut) {
    const Tensor a{s.base.a, a_rows(s, num_groups), s.base.k};
    const Tensor b{s.base.b, b_rows(s, num_groups), s.base.k};
    const int64_t grid = tiles(s) < blocks ? tiles(s) : blocks;
    for (int64_t block = 0; block < grid; ++block)
        if (!run_block(s, a, b, block, grid, lut)) return false;
    return true;
}

int32_t host_run(const Schedule& s, int64_t num_groups) {
    constexpr int64_t kHostBlocks = 3;
    float lut[256];
    fp8gemm::host_lut(lut);
    return host_launch(s, num_groups, kHostBlocks, lut) ? MOE_STATUS_OK : MOE_STATUS_INTERNAL_ERROR;
}

}  // namespace pipe
}  // namespace fp8wgmma
}  // namespace moe
