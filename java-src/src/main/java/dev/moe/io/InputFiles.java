package dev.moe.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens input files without the traps of a plain {@code open}: a FIFO, socket or device is refused at
 * once (opening a FIFO for reading would block until a writer appears), and the problems a user can fix
 * are reported as {@link FileArgumentException}s naming the file and the cause.
 */
public final class InputFiles {
    private InputFiles() {}

    /**
     * Opens a regular file for reading (symbolic links followed).
     *
     * @param file the file
     * @return a channel positioned at the start of the file
     * @throws FileArgumentException if the file is missing ("no such file"), a directory, not a regular
     *         file, or not readable ("permission denied")
     * @throws IOException if it cannot be opened for another reason
     */
    public static FileChannel open(Path file) throws IOException {
        BasicFileAttributes attributes = attributes(null, file);
        if (attributes.isDirectory()) {
            throw new FileArgumentException(null, file, "is a directory, not a file");
        }
        requireNotSpecial(null, file, attributes);
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (FileSystemException e) {
            throw new FileArgumentException(null, file, reason(e));
        }
    }

    /**
     * Checks that {@code file} exists, is readable and is a regular file or a directory.
     *
     * @param label what the caller calls the file (e.g. its command-line flag), or null
     * @param file  the file
     * @return its attributes (symbolic links followed)
     * @throws FileArgumentException naming the label, the file and the problem
     */
    static BasicFileAttributes check(String label, Path file) throws FileArgumentException {
        BasicFileAttributes attributes = attributes(label, file);
        requireNotSpecial(label, file, attributes);
        if (!Files.isReadable(file)) {
            throw new FileArgumentException(label, file, "permission denied");
        }
        return attributes;
    }

    private static BasicFileAttributes attributes(String label, Path file) throws FileArgumentException {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new FileArgumentException(label, file, reason(e));
        }
    }

    private static void requireNotSpecial(String label, Path file, BasicFileAttributes attributes) throws FileArgumentException {
        if (!attributes.isRegularFile() && !attributes.isDirectory()) {
            throw new FileArgumentException(label, file, "is not a regular file (a FIFO, socket or device)");
        }
    }

    /** The cause of a failed file operation in words, without the file name the exception carries. */
    static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "no such file";
            case AccessDeniedException x -> "permission denied";
            case FileSystemException x when x.getReason() != null -> lowerFirst(x.getReason());
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }

    /** "Not a directory" reads as "not a directory" after a colon. */
    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
