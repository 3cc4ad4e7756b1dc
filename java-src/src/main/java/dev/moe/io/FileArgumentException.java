package dev.moe.io;

import java.io.Serial;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A file named as an input or an output that cannot be used as asked, found before anything is read or
 * written: a missing directory, a directory, FIFO or device where a regular file is needed, no permission,
 * or an output that is also an input or another output.
 *
 * <p>The message names the file as the caller gave it, prefixed by its label when there is one (the
 * command-line flag, e.g. {@code "--out-ids ids.npy: is the same file as --logits ids.npy"}), never a
 * temporary file.
 */
public final class FileArgumentException extends FileSystemException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** What the caller calls the file (e.g. its command-line flag), or null. */
    private final String label;

    /**
     * Creates the exception.
     *
     * @param label  what the caller calls the file, e.g. {@code "--out-ids"}; null for none
     * @param file   the file as the caller gave it
     * @param reason what is wrong, e.g. {@code "is a directory"}
     */
    public FileArgumentException(String label, Path file, String reason) {
        super(Objects.requireNonNull(file, "file").toString(), null, Objects.requireNonNull(reason, "reason"));
        this.label = label;
    }

    /** {@return what the caller calls the file (e.g. its command-line flag), or null} */
    public String label() {
        return label;
    }

    /** {@return "LABEL FILE: REASON", or "FILE: REASON" without a label} */
    @Override
    public String getMessage() {
        return (label == null ? "" : label + " ") + getFile() + ": " + getReason();
    }
}
