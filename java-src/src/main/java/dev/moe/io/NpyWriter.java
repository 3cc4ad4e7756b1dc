package dev.moe.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Encodes {@code .npy} files and writes them atomically; see {@link Npy#write(Path, NpyDType, long[], MemorySegment)}. */
final class NpyWriter {
    private static final int CHUNK = 1 << 20;

    private NpyWriter() {
    }

    static void write(Path file, NpyDType dtype, long[] shape, MemorySegment data) throws IOException {
        AtomicFiles.ChannelWriter contents;
        try {
            contents = contents(dtype, shape, data);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(file, contents);
    }

    /** Checks the size of {@code data} now and returns what writes the file (header, then data). */
    static AtomicFiles.ChannelWriter contents(NpyDType dtype, long[] shape, MemorySegment data) {
        long bytes = NpyArray.byteSize(dtype, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("data has " + data.byteSize() + " bytes but a " + dtype.label()
                    + " array of shape " + NpyArray.formatShape(shape) + " needs " + bytes);
        }
        byte[] header = NpyHeader.encode(dtype, shape);
        return channel -> {
            AtomicFiles.writeFully(channel, ByteBuffer.wrap(header));
            writeData(channel, data);
        };
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
            AtomicFiles.writeFully(channel, chunk);
        }
    }

}
