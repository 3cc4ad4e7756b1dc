package dev.moe.cuda;

/** A CUDA runtime call failed; the message names the call and the CUDA error. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the failed call and the CUDA error
     */
    public CudaException(String message) {
        super(message);
    }
}
