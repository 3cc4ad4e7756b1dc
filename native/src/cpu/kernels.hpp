// Internal interface between api.cpp (dispatch, validation) and the three compiled variants of the
// gate kernel. Not part of the ABI.
#pragma once
#include "moe/moe.h"

namespace moe {

struct GateArgs {
    const moe_gate_config* cfg;
    const float* logits;
    const float* bias;        // nullptr: no bias
    int64_t num_tokens;
    int32_t* ids;
    float* weights;
    int64_t* load;            // nullptr: no histogram
    int64_t first_bad_row;    // out: -1 when all logits are finite
    int64_t zero_sum_rows;    // out
};

namespace portable { int32_t gate(GateArgs& args); }
namespace avx2 { int32_t gate(GateArgs& args); }
namespace avx512 { int32_t gate(GateArgs& args); }

}  // namespace moe
