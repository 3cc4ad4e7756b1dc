package dev.moe.io;

import java.io.IOException;
import java.io.Serial;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A file that is not a {@code .npy} file this library can read: bad magic bytes, an unsupported format
 * version or dtype, a malformed header, Fortran order, or a data section whose size does not match the
 * header.
 *
 * <p>The message always starts with the file, for example
 * {@code "logits.npy: truncated: header promises 48 bytes of data, file has 40"}; {@link #problem()}
 * is the part after the file name.
 */
public final class NpyFormatException extends IOException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The file; not serialized, since {@code Path} is not serializable. */
    private final transient Path file;
    /** The message without the file name. */
    private final String problem;

    /**
     * Creates an exception for a problem with {@code file}.
     *
     * @param file the file that was being read
     * @param problem what is wrong with it, without the file name
     */
    public NpyFormatException(Path file, String problem) {
        super(Objects.requireNonNull(file, "file") + ": " + Objects.requireNonNull(problem, "problem"));
        this.file = file;
        this.problem = problem;
    }

    /** {@return the file that could not be read (may be {@code null} after deserialization)} */
    public Path file() {
        return file;
    }

    /** {@return what is wrong with the file, without the file name prefix} */
    public String problem() {
        return problem;
    }
}
