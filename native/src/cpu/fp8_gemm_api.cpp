// moe_fp8_gemm_cpu (moe.h): the checks of shared/fp8_gemm_args.cuh, the grouped layouts as one batch of
// per-group problems, and dispatch to the AVX-512 BF16, AVX-512, AVX2 or portable build of fp8_gemm_kernel.inc.
// Compiled with
// baseline flags.
#include <cstdint>
#include <cstring>
#include <vector>

#include "../shared/fp8_gemm_args.cuh"
#include "cpu_features.hpp"
#include "fp8_gemm.hpp"
#include "moe/moe.h"

namespace {

using moe::GemmArgs;
using moe::fp8_blocks;
namespace g = moe::fp8gemm;

// One batch of independent problems: the kernel runs them all in one OpenMP region.
void run(const GemmArgs* problems, int64_t count) {
    const int32_t kernel = moe::cpu_kernel();
    if (kernel == MOE_CPU_KERNEL_AVX512_BF16) {
        moe::avx512bf16::fp8_gemm_batch(problems, count);
    } else if (kernel == MOE_CPU_KERNEL_AVX512) {
        moe::avx512::fp8_gemm_batch(problems, count);
    } else if (moe::cpu_kernel_avx2()) {
        moe::avx2::fp8_gemm_batch(problems, count);
    } else {
        moe::portable::fp8_gemm_batch(problems, count);
    }
}

// Group e of a grouped call: its rows r0 .. r0 + rows - 1 of A and C, and its B.
GemmArgs group(const g::Call& c, int64_t e, int64_t r0, int64_t rows) {
    const int64_t kc = fp8_blocks(c.k);
    return GemmArgs{rows, c.n, c.k, c.a + r0 * c.k, c.sa + r0 * kc, c.b + e * c.n * c.k, c.sb + e * fp8_blocks(c.n) * kc,
                    c.c + r0 * c.n};
}

}  // namespace

#pragma GCC visibility push(default)  // the library builds with hidden visibility; export the ABI
extern "C" {

int32_t moe_fp8_gemm_cpu(const moe_fp8_gemm_args* args) {
    g::Call c;
    if (const int32_t s = g::check_call(args, g::Entry::kCpu, &c); s != MOE_STATUS_OK) return s;
    std::vector<GemmArgs> problems;
    switch (c.layout) {
        case MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS:
            for (int64_t e = 0; e < c.groups; ++e) {
                const int64_t rows = c.offsets[e + 1] - c.offsets[e];
                if (rows > 0) problems.push_back(group(c, e, c.offsets[e], rows));  // empty experts cost nothing
            }
            break;
        case MOE_GEMM_LAYOUT_GROUPED_MASKED:
            for (int64_t e = 0; e < c.groups; ++e) {
                const int64_t r0 = e * c.max_m;
                if (c.counts[e] > 0) problems.push_back(group(c, e, r0, c.counts[e]));
                // Slots past the count hold no token: defined zeros rather than stale memory.
                std::memset(c.c + (r0 + c.counts[e]) * c.n, 0, static_cast<size_t>((c.max_m - c.counts[e]) * c.n) * sizeof(float));
            }
            break;
        default:
            problems.push_back(GemmArgs{c.m, c.n, c.k, c.a, c.sa, c.b, c.sb, c.c});
            break;
    }
    run(problems.data(), static_cast<int64_t>(problems.size()));
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
