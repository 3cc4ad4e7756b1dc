// The exported C ABI of the CPU library: identity, the CPU kernel variant, the gate's checks and dispatch.
// Built with baseline x86-64 flags so that nothing here can fault on an older CPU.
#include <atomic>
#include <omp.h>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../shared/gate_token.cuh"
#include "cpu_features.hpp"
#include "kernels.hpp"
#include "moe/moe.h"

#ifndef MOE_VERSION_STRING
#define MOE_VERSION_STRING "unknown"
#endif

namespace {

using moe::cpu_has_avx2;
using moe::cpu_has_avx512;
using moe::cpu_has_avx512_bf16;

int32_t widest() {
    return cpu_has_avx512_bf16() ? MOE_CPU_KERNEL_AVX512_BF16
           : cpu_has_avx512()    ? MOE_CPU_KERNEL_AVX512
           : cpu_has_avx2()      ? MOE_CPU_KERNEL_AVX2
                                 : MOE_CPU_KERNEL_PORTABLE;
}

std::atomic<int32_t> g_kernel{MOE_CPU_KERNEL_AUTO};

}  // namespace

int32_t moe::cpu_kernel() {
    int32_t k = g_kernel.load(std::memory_order_relaxed);
    if (k == MOE_CPU_KERNEL_AUTO) {
        k = widest();
        int32_t expected = MOE_CPU_KERNEL_AUTO;
        g_kernel.compare_exchange_strong(expected, k);
        k = g_kernel.load(std::memory_order_relaxed);
    }
    return k;
}

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_abi_version(void) { return MOE_ABI_VERSION; }

int32_t moe_library_query(moe_library_info* info) {
    if (info == nullptr) return MOE_STATUS_NULL_POINTER;
    info->version = MOE_VERSION_STRING;
    info->abi_version = MOE_ABI_VERSION;
    info->cpu_has_avx2 = cpu_has_avx2() ? 1 : 0;
    info->cpu_kernel = moe::cpu_kernel();
    info->cpu_max_threads = omp_get_max_threads();
    info->cpu_has_avx512 = cpu_has_avx512() ? 1 : 0;
    info->cpu_has_avx512_bf16 = cpu_has_avx512_bf16() ? 1 : 0;
    return MOE_STATUS_OK;
}

const char* moe_status_message(int32_t status) {
    switch (status) {
        case MOE_STATUS_OK: return "ok";
        case MOE_STATUS_NULL_POINTER: return "a required pointer argument is NULL";
        case MOE_STATUS_INVALID_CONFIG: return "invalid configuration";
        case MOE_STATUS_BAD_BUFFER_SIZE: return "a buffer's element count does not match the shapes";
        case MOE_STATUS_NON_FINITE_INPUT: return "input contains a non-finite value (NaN or infinity)";
        case MOE_STATUS_UNSUPPORTED_CPU: return "this CPU lacks the instruction set the requested kernel needs";
        case MOE_STATUS_OUT_OF_MEMORY: return "out of memory";
        case MOE_STATUS_NO_GPU: return "no usable GPU";
        case MOE_STATUS_CUDA_ERROR: return "CUDA runtime error";
        case MOE_STATUS_INTERNAL_ERROR: return "internal error";
        case MOE_STATUS_UNSUPPORTED_GPU: return "the GPU (or this build) lacks what the requested kernel needs";
        case MOE_STATUS_NOT_IMPLEMENTED: return "this combination of arguments is reserved but not implemented";
        default: return "unknown status code";
    }
}

int32_t moe_cpu_set_kernel(int32_t kernel) {
    switch (kernel) {
        case MOE_CPU_KERNEL_AUTO:
            g_kernel.store(widest());
            return MOE_STATUS_OK;
        case MOE_CPU_KERNEL_PORTABLE:
            g_kernel.store(MOE_CPU_KERNEL_PORTABLE);
            return MOE_STATUS_OK;
        case MOE_CPU_KERNEL_AVX2:
            if (!cpu_has_avx2()) return MOE_STATUS_UNSUPPORTED_CPU;
            g_kernel.store(MOE_CPU_KERNEL_AVX2);
            return MOE_STATUS_OK;
        case MOE_CPU_KERNEL_AVX512:
            if (!cpu_has_avx512()) return MOE_STATUS_UNSUPPORTED_CPU;
            g_kernel.store(MOE_CPU_KERNEL_AVX512);
            return MOE_STATUS_OK;
        case MOE_CPU_KERNEL_AVX512_BF16:
            if (!cpu_has_avx512_bf16()) return MOE_STATUS_UNSUPPORTED_CPU;
            g_kernel.store(MOE_CPU_KERNEL_AVX512_BF16);
            return MOE_STATUS_OK;
        default:
            return MOE_STATUS_INVALID_CONFIG;
    }
}

// The Java bindings hard-code these layouts (bindings/.../moe_*.java, MoeHTest).
static_assert(sizeof(moe_gate_config) == 40 && offsetof(moe_gate_config, route_scale) == 32 &&
              offsetof(moe_gate_config, bias_mode) == 36, "moe_gate_config layout changed: regenerate the bindings");
static_assert(sizeof(moe_gate_stats) == 16, "moe_gate_stats layout changed: regenerate the bindings");
static_assert(sizeof(moe_library_info) == 32 && offsetof(moe_library_info, cpu_max_threads) == 20 &&
                  offsetof(moe_library_info, cpu_has_avx512) == 24 && offsetof(moe_library_info, cpu_has_avx512_bf16) == 28,
              "moe_library_info layout changed: regenerate the bindings");
static_assert(sizeof(moe_fp8_gemm_args) == 200 && offsetof(moe_fp8_gemm_args, m) == 32 &&
              offsetof(moe_fp8_gemm_args, offsets) == 96 && offsetof(moe_fp8_gemm_args, c_count) == 184 &&
              offsetof(moe_fp8_gemm_args, stream) == 192, "moe_fp8_gemm_args layout changed: regenerate the bindings");
static_assert(sizeof(moe_layer_args) == 224 && offsetof(moe_layer_args, gemm_kernel) == 40 &&
              offsetof(moe_layer_args, tokens) == 48 && offsetof(moe_layer_args, x) == 80,
              "moe_layer_args layout changed: regenerate the bindings");
static_assert(sizeof(moe_cuda_device_info) == 40 && offsetof(moe_cuda_device_info, name) == 32,
              "moe_cuda_device_info layout changed: regenerate the bindings");

int32_t moe_gate_config_check(const moe_gate_config* c) { return moe::gate::check_config(c); }

int32_t moe_gate_cpu(const moe_gate_config* config,
                     const float* logits, int64_t logits_count,
                     const float* bias, int64_t bias_count,
                     int64_t num_tokens,
                     int32_t* out_ids, int64_t ids_count,
                     float* out_weights, int64_t weights_count,
                     int64_t* expert_load, int64_t load_count,
                     moe_gate_stats* stats) {
    if (stats != nullptr) {
        stats->first_bad_row = -1;
        stats->zero_sum_rows = 0;
    }
    const int32_t cs = moe_gate_config_check(config);
    if (cs != MOE_STATUS_OK) return cs;
    const int64_t n = config->num_experts;
    const int32_t bs = moe::gate::check_buffers(*config, logits, logits_count, bias, bias_count, num_tokens, out_ids, ids_count,
                                                out_weights, weights_count, expert_load, load_count);
    if (bs != MOE_STATUS_OK) return bs;
    if (num_tokens == 0) return MOE_STATUS_OK;
    if (bias != nullptr) {
        for (int64_t i = 0; i < n; ++i)
            if (!std::isfinite(bias[i])) return MOE_STATUS_NON_FINITE_INPUT;
    }
    moe::GateArgs args{config, logits, bias, num_tokens, out_ids, out_weights, expert_load, -1, 0};
    const int32_t kernel = moe::cpu_kernel();
    const int32_t st = kernel >= MOE_CPU_KERNEL_AVX512 ? moe::avx512::gate(args)
                       : kernel == MOE_CPU_KERNEL_AVX2 ? moe::avx2::gate(args)
                                                       : moe::portable::gate(args);
    if (stats != nullptr) {
        stats->first_bad_row = args.first_bad_row;
        stats->zero_sum_rows = args.zero_sum_rows;
    }
    return st;
}

}  // extern "C"
#pragma GCC visibility pop
