package dev.moe.dist;

/** A collective failed, or the process group could not be set up; the message says which and why. */
public class CommunicatorException extends RuntimeException {
    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
