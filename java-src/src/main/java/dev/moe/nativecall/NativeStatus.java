package dev.moe.nativecall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.moe.bindings.moe_h;
import dev.moe.nativelib.CudaException;
import dev.moe.nativelib.MoeNative;

/**
 * Turns the C ABI's int32 status codes into Java exceptions, the same way for every native call (CPU and
 * CUDA): bad input is an {@link IllegalArgumentException}, a reserved but unimplemented combination an
 * {@link UnsupportedOperationException}, a GPU failure a {@link CudaException} that keeps the CUDA runtime's
 * error code, anything else an {@link IllegalStateException}.
 */
public final class NativeStatus {
    private NativeStatus() {}

    /**
     * The native library's message for a status code (the CPU library's, loaded here if a CUDA call came first).
     *
     * @param status a MOE_STATUS_* code
     * @return the library's description of it
     */
    public static String message(int status) {
        MoeNative.cpu();
        return moe_h.moe_status_message(status).getString(0);
    }

    /**
     * Throws unless {@code status} is MOE_STATUS_OK.
     *
     * @param status the status returned by a native call
     * @param call   what was called, for the message
     * @throws IllegalArgumentException for the statuses that mean bad input (invalid config, bad buffer size,
     *         non-finite input, null pointer)
     * @throws UnsupportedOperationException for MOE_STATUS_NOT_IMPLEMENTED
     * @throws CudaException for no usable GPU, a GPU that lacks what the call needs, and CUDA runtime
     *         errors (device memory exhausted included), with the CUDA error code
     * @throws IllegalStateException for any other status
     */
    public static void check(int status, String call) {
        if (status != moe_h.MOE_STATUS_OK()) {
            throw failure(status, call);
        }
    }

    /**
     * The exception {@link #check} throws for a status other than MOE_STATUS_OK.
     *
     * @param status the status returned by a native call
     * @param call   what was called, for the message
     * @return the exception, not thrown
     */
    public static RuntimeException failure(int status, String call) {
        String text = call + " failed with status " + status + ": " + message(status);
        if (status == moe_h.MOE_STATUS_INVALID_CONFIG() || status == moe_h.MOE_STATUS_BAD_BUFFER_SIZE()
                || status == moe_h.MOE_STATUS_NON_FINITE_INPUT() || status == moe_h.MOE_STATUS_NULL_POINTER()) {
            return new IllegalArgumentException(text);
        }
        if (status == moe_h.MOE_STATUS_NOT_IMPLEMENTED()) {
            return new UnsupportedOperationException(text);
        }
        boolean unsupportedGpu = status == moe_h.MOE_STATUS_UNSUPPORTED_GPU();
        boolean cudaFailure = status == moe_h.MOE_STATUS_NO_GPU() || status == moe_h.MOE_STATUS_CUDA_ERROR()
                || status == moe_h.MOE_STATUS_OUT_OF_MEMORY();
        if (!unsupportedGpu && !cudaFailure) {
            return new IllegalStateException(text);
        }
        // The CUDA library records the runtime error behind its last failure on this thread.
        int code = 0;
        String reason = "";
        if (cudaFailure && MoeNative.cudaLoaded()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(256);
                code = moe_h.moe_cuda_last_error(buf, buf.byteSize());
                reason = buf.getString(0);
            }
        }
        if (status == moe_h.MOE_STATUS_OUT_OF_MEMORY() && code == 0) {
            return new IllegalStateException(text);  // host memory (the CPU library)
        }
        String message = code == 0 ? text : text + ", CUDA error " + code + " (" + reason + ")";
        return new CudaException(message, code, reason, unsupportedGpu);
    }
}
