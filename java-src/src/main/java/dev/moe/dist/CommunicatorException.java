package dev.moe.dist;

/** A collective failed, or the process group could not be set up; the message says which and why. */
public class CommunicatorException extends RuntimeException {
    /**
     * Creates the exception.
     *
     * @param message what failed and why
     */
    public CommunicatorException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what failed and why
     * @param cause   the underlying failure
     */
    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
