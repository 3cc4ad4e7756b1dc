package dev.moe.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

/** Validates {@code .npy} files and reads or maps their data; see {@link Npy#read} for the rules. */
final class NpyReader {
    /** Headers larger than this are rejected rather than read into memory. */
    static final int MAX_HEADER_BYTES = 1 << 20;
    /** Bytes per read call (a ByteBuffer holds at most 2 GiB). */
    private static final int CHUNK = 1 << 30;

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    private static final ValueLayout.OfFloat F32 = (ValueLayout.OfFloat) NpyDType.FLOAT32.layout();
    private static final ValueLayout.OfDouble F64 = (ValueLayout.OfDouble) NpyDType.FLOAT64.layout();

    private NpyReader() {
    }

    /** Where a validated file's data lies. */
    private record Located(NpyDType dtype, long[] shape, long dataOffset, long dataBytes, long fileSize) {
    }

    /** The file's data copied into memory of {@code arena}: a later change to the file cannot reach it. */
    static NpyArray read(Path file, Arena arena) throws IOException {
        try (FileChannel channel = InputFiles.open(file)) {
            Located at = locate(file, channel);
            return new NpyArray(at.dtype(), at.shape(), load(file, channel, at, arena).asReadOnly());
        }
    }

    /** A zero-copy view of the file's data in a mapping owned by {@code arena}. */
    static NpyArray map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = InputFiles.open(file)) {
            Located at = locate(file, channel);
            MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, 0, at.fileSize(), arena)
                    .asSlice(at.dataOffset(), at.dataBytes());
            return new NpyArray(at.dtype(), at.shape(), data);
        }
    }

    static NpyArray readFloat32(Path file, Arena arena) throws IOException {
        try (FileChannel channel = InputFiles.open(file)) {
            Located at = locate(file, channel);
            return switch (at.dtype()) {
                case FLOAT32 -> new NpyArray(NpyDType.FLOAT32, at.shape(), load(file, channel, at, arena).asReadOnly());
                case FLOAT64 -> {
                    try (Arena scratch = Arena.ofConfined()) {
                        yield new NpyArray(NpyDType.FLOAT32, at.shape(), toFloat32(load(file, channel, at, scratch), arena));
                    }
                }
                default -> throw new NpyFormatException(file, "expected float32 or float64 data, got " + at.dtype().label());
            };
        }
    }

    /** Reads and checks the preamble and header; maps nothing. */
    private static Located locate(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size == 0) {
            throw new NpyFormatException(file, "empty file (0 bytes), not a .npy file");
        }
        if (size < 10) {
            throw new NpyFormatException(file, "too short for a .npy file: " + size
                    + " bytes, but the fixed preamble alone is 10 bytes");
        }
        ByteBuffer preamble = readAt(file, channel, 0, (int) Math.min(size, 12));
        byte[] magic = Arrays.copyOf(preamble.array(), NpyHeader.MAGIC.length);
        if (!Arrays.equals(magic, NpyHeader.MAGIC)) {
            throw new NpyFormatException(file, Arrays.equals(Arrays.copyOf(magic, 4), ZIP_MAGIC)
                    ? "not a .npy file: it is a zip archive (an .npz file?); extract the arrays with np.load first"
                    : "not a .npy file: bad magic bytes " + HexFormat.ofDelimiter(" ").formatHex(magic)
                            + " (expected 93 4e 55 4d 50 59, i.e. \\x93NUMPY)");
        }
        int major = Byte.toUnsignedInt(preamble.get(6));
        int minor = Byte.toUnsignedInt(preamble.get(7));
        if ((major != 1 && major != 2) || minor != 0) {
            throw new NpyFormatException(file, "unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0)");
        }
        long headerStart = major == 1 ? 10 : 12;
        if (size < headerStart) {
            throw new NpyFormatException(file, "too short for a version 2.0 .npy file: " + size + " bytes");
        }
        long headerLength = major == 1 ? Short.toUnsignedLong(preamble.getShort(8)) : Integer.toUnsignedLong(preamble.getInt(8));
        long headerEnd = headerStart + headerLength;
        if (headerEnd > size) {
            throw new NpyFormatException(file, "header length " + headerLength + " runs past the end of the file"
                    + " (the header would end at byte " + headerEnd + ", the file has " + size + " bytes)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpyFormatException(file, "header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        }
        String text = new String(readAt(file, channel, headerStart, (int) headerLength).array(), StandardCharsets.ISO_8859_1);
        NpyHeader header;
        NpyDType dtype;
        long dataBytes;
        try {
            header = NpyHeaderParser.parse(text);
            dtype = NpyDType.fromDescr(header.descr());
            dataBytes = NpyArray.byteSize(dtype, header.shape());
        } catch (IllegalArgumentException e) {
            throw new NpyFormatException(file, e.getMessage());
        }
        if (header.fortranOrder()) {
            throw new NpyFormatException(file, "Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        long available = size - headerEnd;
        if (available < dataBytes) {
            throw new NpyFormatException(file, "truncated: header promises " + dataBytes + " bytes of data, file has "
                    + available);
        }
        if (available > dataBytes) {
            throw new NpyFormatException(file, (available - dataBytes) + " trailing bytes after the data (header promises "
                    + dataBytes + " bytes for a " + dtype.label() + " array of shape "
                    + NpyArray.formatShape(header.shape()) + ")");
        }
        return new Located(dtype, header.shape(), headerEnd, dataBytes, size);
    }

    private static ByteBuffer readAt(Path file, FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new NpyFormatException(file, "changed while being read: it shrank to " + channel.size() + " bytes");
            }
        }
        return buffer.flip();
    }

    /**
     * The data section read into 64-byte-aligned memory of {@code arena} (a private copy: unlike a
     * mapping, it stays valid whatever happens to the file, so native code can be handed it safely).
     */
    private static MemorySegment load(Path file, FileChannel channel, Located at, Arena arena) throws IOException {
        MemorySegment data = arena.allocate(Math.max(1, at.dataBytes()), 64).asSlice(0, at.dataBytes());
        for (long done = 0; done < at.dataBytes(); ) {
            ByteBuffer chunk = data.asSlice(done, Math.min(CHUNK, at.dataBytes() - done)).asByteBuffer();
            while (chunk.hasRemaining()) {
                if (channel.read(chunk, at.dataOffset() + done + chunk.position()) < 0) {
                    throw new NpyFormatException(file, "changed while being read: it now ends at byte "
                            + channel.size() + ", the data should end at byte " + (at.dataOffset() + at.dataBytes()));
                }
            }
            done += chunk.capacity();
        }
        return data;
    }

    private static MemorySegment toFloat32(MemorySegment doubles, Arena arena) {
        long count = doubles.byteSize() / Double.BYTES;
        MemorySegment floats = arena.allocate(count * Float.BYTES, Float.BYTES);
        for (long i = 0; i < count; i++) {
            floats.setAtIndex(F32, i, (float) doubles.getAtIndex(F64, i));
        }
        return floats;
    }
}
