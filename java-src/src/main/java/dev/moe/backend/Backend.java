package dev.moe.backend;

import java.util.Locale;

/** Where routing runs. A backend asked for by name is never silently replaced by another. */
public enum Backend {
    /** The pure-Java reference router (scalar, obviously correct). */
    JAVA,
    /** Native C++ kernels through FFM (the embedded default). */
    CPU,
    /** Native CUDA kernels through FFM. */
    CUDA,
    /** CUDA if a GPU is usable, else CPU, else Java; the choice is logged at INFO. */
    AUTO;

    /** {@return the command-line name: the constant's name in lower case} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code java|cpu|cuda|auto}, ignoring case and surrounding white space.
     *
     * @param name the command-line name
     * @return the backend
     * @throws IllegalArgumentException if the name is not one of the four
     */
    public static Backend parse(String name) {
        for (Backend b : values()) {
            if (b.cliName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected java, cpu, cuda or auto)");
    }
}
