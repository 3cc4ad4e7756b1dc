package dev.moe.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes files so that readers see either the old file or the complete new one, never a partial
 * write: temp file in the same directory, fsync, atomic rename, directory sync. On failure the temp
 * file is deleted and an existing target is left untouched.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes a file's contents into an open channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        /**
         * Writes the whole contents into {@code channel}, a new, empty temporary file opened for writing.
         * The channel is forced and closed by the caller.
         *
         * @param channel the temporary file
         * @throws IOException if writing fails; the target is then left untouched
         */
        void write(FileChannel channel) throws IOException;
    }

    /**
     * Atomically replaces {@code target} with {@code bytes}.
     *
     * @param target the file to create or replace; its directory must exist
     * @param bytes  the complete new contents
     * @throws IOException if the file cannot be written; an existing target is then unchanged
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /**
     * Atomically replaces {@code target} with what {@code body} writes. The temporary file gets
     * ordinary permissions (rw-rw-rw- narrowed by the umask) where the file system is POSIX.
     *
     * @param target the file to create or replace; its directory must exist
     * @param body   writes the complete new contents
     * @throws IOException if the file cannot be written or {@code body} fails; an existing target is
     *         then unchanged (an unchecked exception from {@code body} is rethrown the same way)
     */
    public static void write(Path target, ChannelWriter body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path temp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp", defaultPermissions(dir));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                body.write(channel);
                channel.force(true);
            }
            Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        syncDirectory(dir);
    }

    /**
     * Writes all of {@code buffer}, looping over short writes.
     *
     * @param channel the channel to write to, at its current position
     * @param buffer  the bytes from its position to its limit; its position ends at the limit
     * @throws IOException if a write fails
     */
    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * rw-rw-rw- as the requested mode, which the OS narrows by the umask, so the file gets ordinary
     * permissions (createTempFile alone would make it owner-only).
     */
    private static FileAttribute<?>[] defaultPermissions(Path dir) {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))};
    }

    /** Makes the rename durable where the platform allows opening a directory; best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not supported here (e.g. Windows); the file itself was forced before the rename
        }
    }
}
