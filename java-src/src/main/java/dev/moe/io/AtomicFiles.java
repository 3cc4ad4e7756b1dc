package dev.moe.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Writes single files so that readers see either the old file or the complete new one, never a partial
 * write: temp file in the same directory, fsync, atomic rename, directory sync. On failure the temp
 * file is deleted and an existing target is left untouched. Several outputs of one operation go through
 * {@link OutputFiles}, which this delegates to.
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
     * Atomically replaces {@code target} with what {@code body} writes: one {@link OutputFiles}
     * transaction with a single output, so the same checks apply (the directory must exist and be
     * writable; a directory, FIFO, device or read-only file is never replaced) and the temporary file is
     * removed on failure and on JVM shutdown.
     *
     * @param target the file to create or replace; its directory must exist
     * @param body   writes the complete new contents
     * @throws FileArgumentException if {@code target} cannot be written (see {@link OutputFiles});
     *         nothing was written then
     * @throws IOException if the file cannot be written or {@code body} fails; an existing target is
     *         then unchanged (an unchecked exception from {@code body} is rethrown the same way)
     */
    public static void write(Path target, ChannelWriter body) throws IOException {
        try (OutputFiles out = OutputFiles.builder().output(null, target).open()) {
            out.write(target, body);
            out.commit();
        }
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
}
