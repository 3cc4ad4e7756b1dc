package dev.moe.cuda;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.MoeNative;

/** Status handling of the CUDA runtime calls: a failed call throws with the call and CUDA's message. */
final class CudaCalls {
    private CudaCalls() {}

    static void check(int status, String call) {
        if (status == moe_h.MOE_STATUS_OK()) {
            return;
        }
        if (status == moe_h.MOE_STATUS_NO_GPU()) {
            throw new CudaException(call + ": no usable GPU");
        }
        if (status == moe_h.MOE_STATUS_CUDA_ERROR()) {
            int code = moe_h.moe_cuda_last_error();
            throw new CudaException(call + " failed: CUDA error " + code + " (" + moe_h.moe_cuda_error_string(code).getString(0) + ")");
        }
        throw new CudaException(call + " failed with status " + status + ": "
                + moe_h.moe_status_message(status).getString(0));
    }

    /** Loads the CUDA library (once); throws if it is not available. */
    static void load() {
        MoeNative.cuda();
    }
}
