// The checks of a moe_fp8_gemm_args (moe.h), written once for moe_fp8_gemm_cpu, moe_fp8_gemm_cuda and
// the GEMM host twin (testkit): one order and one status per failure, so every entry answers the same
// call the same way. Host code only.
#pragma once

#include <stdint.h>

#include <cmath>
#include <initializer_list>

#include "moe/moe.h"

namespace moe {
namespace fp8gemm {

constexpr int64_t kScaleBlock = 128;

inline int64_t scale_blocks(int64_t x) { return (x + kScaleBlock - 1) / kScaleBlock; }

// Which entry checks: the kernels it takes, and what it may read on the host.
enum class Entry {
    kCpu,       // MOE_GEMM_KERNEL_CPU; counts and scales are host memory
    kCuda,      // the CUDA kernels; counts and scales are device memory (not read)
    kHostTwin,  // the CUDA kernels; host memory, but counts are clamped as on the device
};

// A checked call: the shapes and pointers of the arguments (leading dimensions are packed).
struct Call {
    int32_t kernel;
    int32_t layout;
    int64_t m, n, k;
    int64_t groups;  // 1 for DENSE
    int64_t max_m;
    const int64_t* offsets;
    const int32_t* counts;
    const uint8_t* a;
    const float* sa;
    const uint8_t* b;
    const float* sb;
    float* c;
    int32_t device;
    void* stream;
};

// count == a * b * c without overflow (all >= 0).
inline bool product_is(int64_t count, int64_t a, int64_t b, int64_t c = 1) {
    if (a < 0 || b < 0 || c < 0) return false;
    if (a == 0 || b == 0 || c == 0) return count == 0;
    if (a > INT64_MAX / b || a * b > INT64_MAX / c) return false;
    return a * b * c == count;
}

inline bool all_finite(const float* v, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
        if (!std::isfinite(v[i])) return false;
    return true;
}

// The kernel, layout, operand and stride fields: MOE_STATUS_INVALID_CONFIG for a value the ABI does not
// define (or a kernel of the other library), MOE_STATUS_NOT_IMPLEMENTED for a defined one not built yet.
inline int32_t check_kinds(const moe_fp8_gemm_args& g, Entry entry) {
    if (g.struct_size != static_cast<int32_t>(sizeof(moe_fp8_gemm_args))) return MOE_STATUS_INVALID_CONFIG;
    const bool cuda_kernel = g.kernel == MOE_GEMM_KERNEL_EXACT || g.kernel == MOE_GEMM_KERNEL_MMA ||
                             g.kernel == MOE_GEMM_KERNEL_WGMMA || g.kernel == MOE_GEMM_KERNEL_WGMMA_TMA;
    if (entry == Entry::kCpu ? g.kernel != MOE_GEMM_KERNEL_CPU : !cuda_kernel) return MOE_STATUS_INVALID_CONFIG;
    if (g.layout == MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS_K) return MOE_STATUS_NOT_IMPLEMENTED;
    if (g.layout < MOE_GEMM_LAYOUT_DENSE || g.layout > MOE_GEMM_LAYOUT_GROUPED_MASKED) return MOE_STATUS_INVALID_CONFIG;
    for (const int32_t major : {g.a_major, g.b_major})
        if (major != MOE_GEMM_MAJOR_K) return major == MOE_GEMM_MAJOR_MN ? MOE_STATUS_NOT_IMPLEMENTED : MOE_STATUS_INVALID_CONFIG;
    for (const int32_t block : {g.a_scale_block, g.b_scale_block})
        if (block != MOE_FP8_BLOCK_1X128 && block != MOE_FP8_BLOCK_128X128 && block != MOE_FP8_BLOCK_NONE)
            return MOE_STATUS_INVALID_CONFIG;
    if (g.a_scale_block != MOE_FP8_BLOCK_1X128 || g.b_scale_block != MOE_FP8_BLOCK_128X128) return MOE_STATUS_NOT_IMPLEMENTED;
    return MOE_STATUS_OK;
}

// The rows of A and C a grouped layout implies, checked against m: offsets (host memory: int64 [E+1], 0
// first, non-decreasing, last == m) or counts (E * max_m == m; their values only where they are host
// memory the entry reads: each in 0..max_m).
inline int32_t check_groups(const moe_fp8_gemm_args& g, Entry entry) {
    if (g.layout == MOE_GEMM_LAYOUT_GROUPED_CONTIGUOUS) {
        if (g.groups < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
        if (g.offsets == nullptr) return MOE_STATUS_NULL_POINTER;
        if (g.offsets[0] != 0) return MOE_STATUS_BAD_BUFFER_SIZE;
        for (int64_t e = 0; e < g.groups; ++e)
            if (g.offsets[e + 1] < g.offsets[e]) return MOE_STATUS_BAD_BUFFER_SIZE;
        return g.offsets[g.groups] == g.m ? MOE_STATUS_OK : MOE_STATUS_BAD_BUFFER_SIZE;
    }
    if (g.layout == MOE_GEMM_LAYOUT_GROUPED_MASKED) {
        if (g.groups < 0 || g.max_m < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
        if (g.groups > 0 && g.counts == nullptr) return MOE_STATUS_NULL_POINTER;
        if (entry == Entry::kCpu)
            for (int64_t e = 0; e < g.groups; ++e)
                if (g.counts[e] < 0 || g.counts[e] > g.max_m) return MOE_STATUS_BAD_BUFFER_SIZE;
        if (g.groups > 0 && g.max_m > INT64_MAX / g.groups) return MOE_STATUS_BAD_BUFFER_SIZE;
        return g.groups * g.max_m == g.m ? MOE_STATUS_OK : MOE_STATUS_BAD_BUFFER_SIZE;
    }
    return MOE_STATUS_OK;
}

// Every check of one call, in order: the struct and its kinds, the groups, the buffers' element counts
// against the shapes, NULL buffers, leading dimensions, and (host memory only) finite scales.
inline int32_t check_call(const moe_fp8_gemm_args* args, Entry entry, Call* out) {
    if (args == nullptr || out == nullptr) return MOE_STATUS_NULL_POINTER;
    const moe_fp8_gemm_args& g = *args;
    if (const int32_t s = check_kinds(g, entry); s != MOE_STATUS_OK) return s;
    if (const int32_t s = check_groups(g, entry); s != MOE_STATUS_OK) return s;
    const int64_t groups = g.layout == MOE_GEMM_LAYOUT_DENSE ? 1 : g.groups;
    if (g.m < 0 || g.n < 0 || g.k < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t kc = scale_blocks(g.k);
    if (!product_is(g.a_count, g.m, g.k) || !product_is(g.a_scales_count, g.m, kc) || !product_is(g.b_count, groups, g.n, g.k) ||
        !product_is(g.b_scales_count, groups, scale_blocks(g.n), kc) || !product_is(g.c_count, g.m, g.n))
        return MOE_STATUS_BAD_BUFFER_SIZE;
    if ((g.a_count > 0 && g.a == nullptr) || (g.a_scales_count > 0 && g.a_scales == nullptr) ||
        (g.b_count > 0 && g.b == nullptr) || (g.b_scales_count > 0 && g.b_scales == nullptr) || (g.c_count > 0 && g.c == nullptr))
        return MOE_STATUS_NULL_POINTER;
    if (g.lda < 0 || g.ldb < 0 || g.ldc < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    if ((g.lda != 0 && g.lda != g.k) || (g.ldb != 0 && g.ldb != g.k) || (g.ldc != 0 && g.ldc != g.n))
        return MOE_STATUS_NOT_IMPLEMENTED;
    if (entry != Entry::kCuda && (!all_finite(g.a_scales, g.a_scales_count) || !all_finite(g.b_scales, g.b_scales_count)))
        return MOE_STATUS_NON_FINITE_INPUT;
    *out = Call{g.kernel, g.layout, g.m,     g.n,        g.k, groups, g.max_m,  g.offsets, g.counts,
                g.a,      g.a_scales, g.b,   g.b_scales, g.c, g.device, g.stream};
    return MOE_STATUS_OK;
}

}  // namespace fp8gemm
}  // namespace moe
