package dev.moe.nativelib;

/** A native library could not be loaded or failed its ABI check; the message lists what was tried. */
public final class NativeLibraryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed, with every place tried
     */
    public NativeLibraryException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what failed, with every place tried
     * @param cause   the underlying failure, e.g. an {@link UnsatisfiedLinkError}
     */
    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
