package dev.moe.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes {@code .npy} files atomically; see {@link Npy#write(Path, NpyDType, long[], MemorySegment)}. */
final class NpyWriter {
    private static final int CHUNK = 1 << 20;

    private NpyWriter() {
    }

    static void write(Path file, NpyDType dtype, long[] shape, MemorySegment data) throws IOException {
        long bytes;
        try {
            bytes = NpyArray.byteSize(dtype, shape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(file + ": data has " + data.byteSize() + " bytes but a " + dtype.label()
                    + " array of shape " + NpyArray.formatShape(shape) + " needs " + bytes);
        }
        byte[] header = NpyHeader.encode(dtype, shape);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp", defaultPermissions(dir));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                writeFully(channel, ByteBuffer.wrap(header));
                writeData(channel, data);
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
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
     * rw-rw-rw- as the requested mode, which the OS narrows by the umask, so the file ends up with the
     * permissions np.save would give it (createTempFile alone would make it owner-only).
     */
    private static FileAttribute<?>[] defaultPermissions(Path dir) {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))};
    }

    private static void writeData(FileChannel channel, MemorySegment data) throws IOException {
        boolean direct = data.isNative() || data.heapBase().orElse(null) instanceof byte[];
        ByteBuffer bounce = direct ? null : ByteBuffer.allocate((int) Math.min(CHUNK, data.byteSize()));
        for (long offset = 0; offset < data.byteSize(); offset += CHUNK) {
            long n = Math.min(CHUNK, data.byteSize() - offset);
            ByteBuffer chunk;
            if (direct) {
                chunk = data.asSlice(offset, n).asByteBuffer();
            } else {
                bounce.clear().limit((int) n);
                MemorySegment.copy(data, offset, MemorySegment.ofBuffer(bounce), 0, n);
                chunk = bounce;
            }
            writeFully(channel, chunk);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
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
