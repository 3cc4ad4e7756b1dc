package dev.moe.nativelib;

/**
 * A CUDA call failed: no usable GPU, a GPU (or a library build) that lacks what the call needs, or a
 * CUDA runtime error. The message names the call; {@link #cudaError()} keeps the runtime's error code.
 */
public final class CudaException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final int cudaError;
    private final String cudaErrorText;
    private final boolean unsupportedGpu;

    /**
     * Creates the exception.
     *
     * @param message        the failed call and why
     * @param cudaError      the CUDA runtime's error code ({@code cudaError_t}), 0 if none is known
     * @param cudaErrorText  the runtime's text for that code, empty if none is known
     * @param unsupportedGpu whether the device (or this build) lacks what the call needs, e.g. a kernel for
     *                       a newer compute capability
     */
    public CudaException(String message, int cudaError, String cudaErrorText, boolean unsupportedGpu) {
        super(message);
        this.cudaError = cudaError;
        this.cudaErrorText = cudaErrorText;
        this.unsupportedGpu = unsupportedGpu;
    }

    /** {@return the CUDA runtime's error code behind the failure ({@code cudaError_t}), 0 if none is known} */
    public int cudaError() {
        return cudaError;
    }

    /** {@return the CUDA runtime's text for {@link #cudaError()}, empty if none is known} */
    public String cudaErrorText() {
        return cudaErrorText;
    }

    /** {@return whether the device (or this build of the library) lacks what the call needs} */
    public boolean unsupportedGpu() {
        return unsupportedGpu;
    }
}
