// moe_layer_workspace_bytes (moe.h): the GPU MoE layer's scratch size from its shapes, in the CPU library
// so that a caller can size the workspace without a GPU (the layout is shared/moe_layer.cuh's).
#include <cstdint>

#include "../shared/moe_layer.cuh"
#include "moe/moe.h"

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_layer_workspace_bytes(const moe_layer_args* args, int64_t* bytes) {
    if (bytes == nullptr) return MOE_STATUS_NULL_POINTER;
    *bytes = 0;
    moe::layer::Shape s;
    if (const int32_t st = moe::layer::shape_of(args, &s); st != MOE_STATUS_OK) return st;
    *bytes = moe::layer::layout_of(s).total;
    return MOE_STATUS_OK;
}

}  // extern "C"
#pragma GCC visibility pop
