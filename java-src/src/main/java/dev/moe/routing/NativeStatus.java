package dev.moe.routing;

import dev.moe.bindings.moe_h;

/** Turns the C ABI's int32 status codes into Java exceptions. */
public final class NativeStatus {
    private NativeStatus() {}

    /**
     * The native library's message for a status code.
     *
     * @param status a MOE_STATUS_* code
     * @return the library's description of it
     */
    public static String message(int status) {
        return moe_h.moe_status_message(status).getString(0);
    }

    /**
     * Throws unless {@code status} is MOE_STATUS_OK.
     *
     * @param status the status returned by a native call
     * @param call   the name of the call, for the message
     * @throws IllegalArgumentException for the statuses that mean bad input (invalid config, bad buffer size,
     *         non-finite input, null pointer)
     * @throws IllegalStateException for any other non-OK status
     */
    public static void check(int status, String call) {
        if (status == moe_h.MOE_STATUS_OK()) {
            return;
        }
        String text = call + " failed with status " + status + ": " + message(status);
        if (status == moe_h.MOE_STATUS_INVALID_CONFIG() || status == moe_h.MOE_STATUS_BAD_BUFFER_SIZE()
                || status == moe_h.MOE_STATUS_NON_FINITE_INPUT() || status == moe_h.MOE_STATUS_NULL_POINTER()) {
            throw new IllegalArgumentException(text);
        }
        throw new IllegalStateException(text);
    }
}
