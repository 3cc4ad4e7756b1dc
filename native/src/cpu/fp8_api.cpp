// The exported FP8 E4M3 calls of the C ABI: argument checks and kernel dispatch. Built with baseline
// x86-64 flags; the kernel variant follows moe_cpu_set_kernel (the same switch as the gate kernel).
#include <cstdint>

#include "cpu_features.hpp"
#include "fp8_kernels.hpp"
#include "moe/moe.h"

namespace {

constexpr int64_t kTileCols = 128;

bool use_avx2() { return moe::cpu_kernel_avx2(); }

// a * b, or -1 when it overflows int64 (both are >= 0).
int64_t checked_mul(int64_t a, int64_t b) {
    if (a != 0 && b > INT64_MAX / a) return -1;
    return a * b;
}

int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_fp8_e4m3_decode(const uint8_t* in, int64_t in_count, float* out, int64_t out_count) {
    if (in_count < 0 || in_count != out_count) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (in_count == 0) return MOE_STATUS_OK;
    if (in == nullptr || out == nullptr) return MOE_STATUS_NULL_POINTER;
    if (use_avx2()) {
        moe::avx2::fp8_decode(in, out, in_count);
    } else {
        moe::portable::fp8_decode(in, out, in_count);
    }
    return MOE_STATUS_OK;
}

int32_t moe_fp8_quantize_cpu(const float* x, int64_t x_count, int64_t rows, int64_t cols,
                             int32_t block, int32_t pow2_scales,
                             uint8_t* q, int64_t q_count, float* scales, int64_t scales_count) {
    if (block != MOE_FP8_BLOCK_1X128 && block != MOE_FP8_BLOCK_128X128 && block != MOE_FP8_BLOCK_NONE)
        return MOE_STATUS_INVALID_CONFIG;
    if (pow2_scales != 0 && pow2_scales != 1) return MOE_STATUS_INVALID_CONFIG;
    if (block == MOE_FP8_BLOCK_NONE && pow2_scales != 0) return MOE_STATUS_INVALID_CONFIG;
    if (rows < 0 || cols < 0) return MOE_STATUS_BAD_BUFFER_SIZE;
    const int64_t n = checked_mul(rows, cols);
    const int64_t tile_rows = block == MOE_FP8_BLOCK_1X128 ? 1 : 128;
    const int64_t n_scales = block == MOE_FP8_BLOCK_NONE ? 0 : checked_mul(ceil_div(rows, tile_rows), ceil_div(cols, kTileCols));
    if (n < 0 || x_count != n || q_count != n || scales_count != n_scales) return MOE_STATUS_BAD_BUFFER_SIZE;
    if (n == 0) return MOE_STATUS_OK;
    if (x == nullptr || q == nullptr || (n_scales > 0 && scales == nullptr)) return MOE_STATUS_NULL_POINTER;
    if (block == MOE_FP8_BLOCK_NONE) {
        if (use_avx2()) {
            moe::avx2::fp8_encode(x, q, n);
        } else {
            moe::portable::fp8_encode(x, q, n);
        }
        return MOE_STATUS_OK;
    }
    const moe::Fp8QuantArgs args{x, rows, cols, tile_rows, pow2_scales == 1, q, scales};
    return use_avx2() ? moe::avx2::fp8_quantize(args) : moe::portable::fp8_quantize(args);
}

}  // extern "C"
#pragma GCC visibility pop
