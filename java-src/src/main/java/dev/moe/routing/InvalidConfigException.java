package dev.moe.routing;

/** A routing configuration that the spec rejects (docs/specification.md §k #6–#9). */
public final class InvalidConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which rule the configuration breaks, and the offending values
     */
    public InvalidConfigException(String message) {
        super(message);
    }
}
