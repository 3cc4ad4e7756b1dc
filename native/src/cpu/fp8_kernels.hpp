// Internal interface between fp8_api.cpp (argument checks, dispatch) and the two compiled variants of
// the FP8 E4M3 kernels (fp8_portable.cpp, fp8_avx2.cpp). Not part of the ABI.
#pragma once
#include <cstdint>

#include "moe/moe.h"

namespace moe {

struct Fp8QuantArgs {
    const float* x;
    int64_t rows;
    int64_t cols;
    int64_t tile_rows;  // 1 for MOE_FP8_BLOCK_1X128, 128 for MOE_FP8_BLOCK_128X128
    bool pow2_scales;
    uint8_t* q;
    float* scales;      // [ceil(rows / tile_rows), ceil(cols / 128)]
};

namespace portable {
void fp8_encode(const float* in, uint8_t* out, int64_t n);
void fp8_decode(const uint8_t* in, float* out, int64_t n);
int32_t fp8_quantize(const Fp8QuantArgs& args);
}  // namespace portable

namespace avx2 {
void fp8_encode(const float* in, uint8_t* out, int64_t n);
void fp8_decode(const uint8_t* in, float* out, int64_t n);
int32_t fp8_quantize(const Fp8QuantArgs& args);
}  // namespace avx2

}  // namespace moe
