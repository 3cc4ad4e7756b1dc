package dev.moe.backend;

/** A backend that was asked for by name cannot be used here; the message says why. */
public final class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception; the message names the backend and the reason.
     *
     * @param backend the backend that was asked for
     * @param reason  why it cannot be used here
     */
    public BackendUnavailableException(Backend backend, String reason) {
        super("backend " + backend.cliName() + " is not available: " + reason);
    }
}
