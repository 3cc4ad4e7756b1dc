// Internal interface between the entry of training's element-wise kernels (train_api.cpp: validation,
// threads, dispatch) and their two compiled variants (train_kernel.inc). Not part of the ABI.
//   swiglu_rows: rows r0..r1-1 of moe_swiglu_cpu's forward (out [rows, width]) or backward (out [rows, 2*width]);
//   softmax_causal_row: one row of moe_softmax_causal_cpu's forward, n <= seq kept scores, in place;
//     false (x unspecified) if one is not finite;
//   softmax_causal_backward_row: one row of its backward, dP in place, from the forward's probabilities p.
#pragma once
#include <cstdint>

namespace moe {

namespace portable {
void swiglu_rows(bool backward, int64_t r0, int64_t r1, int64_t width, const float* h13, const float* dact, float* out);
bool softmax_causal_row(float* x, int64_t n, int64_t seq, float scale);
void softmax_causal_backward_row(const float* p, float* dp, int64_t n, int64_t seq, float scale);
}  // namespace portable

namespace avx2 {
void swiglu_rows(bool backward, int64_t r0, int64_t r1, int64_t width, const float* h13, const float* dact, float* out);
bool softmax_causal_row(float* x, int64_t n, int64_t seq, float scale);
void softmax_causal_backward_row(const float* p, float* dp, int64_t n, int64_t seq, float scale);
}  // namespace avx2

}  // namespace moe
