package dev.moe.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads and writes NumPy {@code .npy} files: format version 1.0 or 2.0, little-endian, C order, with
 * dtypes {@code <f4}, {@code <f8}, {@code <i4}, {@code <i8} and {@code |u1} (see {@link NpyDType}).
 *
 * <p>Reading checks every part of the file, then copies its data into memory of the caller's arena
 * ({@link #read}), or maps it ({@link #map}, zero-copy); anything this library cannot read exactly is
 * rejected with an {@link NpyFormatException} whose message names the file and the problem. A FIFO,
 * device or directory is refused at once. Writing produces the same bytes as {@code numpy.save} and is
 * atomic: the file is written to a temporary file in the same directory, forced to disk and renamed over
 * the target, so readers see either the old file or the complete new one ({@link #contents} writes one
 * output of an {@link OutputFiles} transaction).
 */
public final class Npy {
    private Npy() {
    }

    /**
     * Reads a {@code .npy} file into memory.
     *
     * <p>The returned array's data is a read-only, 64-byte-aligned copy in {@code arena}, valid while the
     * arena is alive. Being a private copy, it may be handed to native code: a file that is changed or
     * truncated afterwards cannot affect it (a mapping could, see {@link #map}). A file that shrinks while
     * it is read is an {@link NpyFormatException}.
     *
     * @param file the file to read
     * @param arena the arena that owns the data
     * @return the array
     * @throws NpyFormatException if the file is not a valid {@code .npy} file of a supported version,
     *     dtype and order, or its data section does not match its header
     * @throws FileArgumentException if the file is missing, a directory, a FIFO or device, or unreadable
     * @throws IOException if the file cannot be read
     */
    public static NpyArray read(Path file, Arena arena) throws IOException {
        return NpyReader.read(Objects.requireNonNull(file, "file"), Objects.requireNonNull(arena, "arena"));
    }

    /**
     * Maps a {@code .npy} file: the returned array's data is a zero-copy, read-only view of the mapping,
     * valid while {@code arena} is alive (closing it unmaps the file), aligned to the element size for files
     * numpy wrote (numpy starts the data at a multiple of 64 bytes) but not necessarily for others.
     *
     * <p>Only for files nothing else changes while they are mapped: if the file is truncated, reading the
     * lost pages faults. Java code then gets an {@link InternalError}; native code kills the process with
     * SIGBUS. Use {@link #read} for data that native kernels consume.
     *
     * @param file the file to map
     * @param arena the arena that owns the mapping
     * @return the array
     * @throws NpyFormatException as for {@link #read}
     * @throws FileArgumentException as for {@link #read}
     * @throws IOException if the file cannot be read or mapped
     */
    public static NpyArray map(Path file, Arena arena) throws IOException {
        return NpyReader.map(Objects.requireNonNull(file, "file"), Objects.requireNonNull(arena, "arena"));
    }

    /**
     * Reads a {@code .npy} file of float32 or float64 data as float32, into memory as {@link #read} does:
     * {@code <f4} data is copied, {@code <f8} data converted, rounding to nearest.
     *
     * @param file the file to read
     * @param arena the arena that owns the data
     * @return a {@link NpyDType#FLOAT32} array, 64-byte aligned
     * @throws NpyFormatException as for {@link #read}, and for any dtype other than float32 or float64,
     *     e.g. "expected float32 or float64 data, got int32 (&lt;i4)"
     * @throws FileArgumentException as for {@link #read}
     * @throws IOException if the file cannot be read
     */
    public static NpyArray readFloat32(Path file, Arena arena) throws IOException {
        return NpyReader.readFloat32(Objects.requireNonNull(file, "file"), Objects.requireNonNull(arena, "arena"));
    }

    /**
     * Writes an array to a {@code .npy} file atomically; see {@link #write(Path, NpyDType, long[], MemorySegment)}.
     *
     * @param file the file to create or replace
     * @param array the array to write
     * @throws IOException if the file cannot be written; the target is then unchanged
     */
    public static void write(Path file, NpyArray array) throws IOException {
        Objects.requireNonNull(array, "array");
        write(file, array.dtype(), array.shape(), array.data());
    }

    /**
     * Writes raw little-endian, C-order element bytes to a {@code .npy} file, byte for byte as
     * {@code numpy.save} would: format 1.0 (2.0 only if the header does not fit in 65535 bytes), data
     * starting at a multiple of 64 bytes.
     *
     * <p>The file is written to a temporary file {@code .NAME.*.tmp} in the same directory, forced to
     * disk, and moved over {@code file} atomically. On any failure the temporary file is deleted and an
     * existing {@code file} is left untouched.
     *
     * @param file the file to create or replace
     * @param dtype the element type written into the header
     * @param shape the dimensions, each non-negative
     * @param data exactly {@code product(shape) * dtype.itemSize()} bytes
     * @throws IllegalArgumentException if a dimension is negative or {@code data} has the wrong size;
     *     nothing is written then
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file, NpyDType dtype, long[] shape, MemorySegment data) throws IOException {
        NpyWriter.write(Objects.requireNonNull(file, "file"), Objects.requireNonNull(dtype, "dtype"),
                Objects.requireNonNull(shape, "shape").clone(), Objects.requireNonNull(data, "data"));
    }

    /**
     * What {@link #write(Path, NpyDType, long[], MemorySegment)} writes, for one output of an
     * {@link OutputFiles} transaction: {@code out.write(file, Npy.contents(dtype, shape, data))}. The
     * size of {@code data} is checked now; {@code data} must stay valid until the contents are written.
     *
     * @param dtype the element type written into the header
     * @param shape the dimensions, each non-negative
     * @param data exactly {@code product(shape) * dtype.itemSize()} bytes
     * @return the writer of the file's bytes
     * @throws IllegalArgumentException if a dimension is negative or {@code data} has the wrong size
     */
    public static AtomicFiles.ChannelWriter contents(NpyDType dtype, long[] shape, MemorySegment data) {
        return NpyWriter.contents(Objects.requireNonNull(dtype, "dtype"), Objects.requireNonNull(shape, "shape").clone(),
                Objects.requireNonNull(data, "data"));
    }

    /**
     * What {@link #write(Path, NpyArray)} writes, for one output of an {@link OutputFiles} transaction.
     *
     * @param array the array
     * @return the writer of the file's bytes
     */
    public static AtomicFiles.ChannelWriter contents(NpyArray array) {
        Objects.requireNonNull(array, "array");
        return contents(array.dtype(), array.shape(), array.data());
    }

    /**
     * Creates a float32 array backed by a heap copy of {@code values}.
     *
     * @param values the elements in C order
     * @param shape the dimensions; none for a 0-d array holding one value
     * @return the array
     * @throws IllegalArgumentException if the shape does not hold exactly {@code values.length} elements
     */
    public static NpyArray ofFloats(float[] values, long... shape) {
        return of(NpyDType.FLOAT32, values, values.length, shape);
    }

    /**
     * Creates a float64 array backed by a heap copy of {@code values}.
     *
     * @param values the elements in C order
     * @param shape the dimensions; none for a 0-d array holding one value
     * @return the array
     * @throws IllegalArgumentException if the shape does not hold exactly {@code values.length} elements
     */
    public static NpyArray ofDoubles(double[] values, long... shape) {
        return of(NpyDType.FLOAT64, values, values.length, shape);
    }

    /**
     * Creates an int32 array backed by a heap copy of {@code values}.
     *
     * @param values the elements in C order
     * @param shape the dimensions; none for a 0-d array holding one value
     * @return the array
     * @throws IllegalArgumentException if the shape does not hold exactly {@code values.length} elements
     */
    public static NpyArray ofInts(int[] values, long... shape) {
        return of(NpyDType.INT32, values, values.length, shape);
    }

    /**
     * Creates an int64 array backed by a heap copy of {@code values}.
     *
     * @param values the elements in C order
     * @param shape the dimensions; none for a 0-d array holding one value
     * @return the array
     * @throws IllegalArgumentException if the shape does not hold exactly {@code values.length} elements
     */
    public static NpyArray ofLongs(long[] values, long... shape) {
        return of(NpyDType.INT64, values, values.length, shape);
    }

    /**
     * Creates an uint8 array backed by a heap copy of {@code values} (bytes read as unsigned).
     *
     * @param values the elements in C order
     * @param shape the dimensions; none for a 0-d array holding one value
     * @return the array
     * @throws IllegalArgumentException if the shape does not hold exactly {@code values.length} elements
     */
    public static NpyArray ofBytes(byte[] values, long... shape) {
        return of(NpyDType.UINT8, values, values.length, shape);
    }

    private static NpyArray of(NpyDType dtype, Object values, int length, long[] shape) {
        Objects.requireNonNull(shape, "shape");
        long count = NpyArray.elementCount(shape);
        if (count != length) {
            throw new IllegalArgumentException("shape " + NpyArray.formatShape(shape) + " needs " + count
                    + " values but " + length + " were given");
        }
        MemorySegment data = MemorySegment.ofArray(new byte[Math.multiplyExact(length, dtype.itemSize())]);
        ValueLayout element = dtype.layout();
        switch (values) {
            case float[] v -> MemorySegment.copy(v, 0, data, (ValueLayout.OfFloat) element, 0, length);
            case double[] v -> MemorySegment.copy(v, 0, data, (ValueLayout.OfDouble) element, 0, length);
            case int[] v -> MemorySegment.copy(v, 0, data, (ValueLayout.OfInt) element, 0, length);
            case long[] v -> MemorySegment.copy(v, 0, data, (ValueLayout.OfLong) element, 0, length);
            case byte[] v -> MemorySegment.copy(v, 0, data, (ValueLayout.OfByte) element, 0, length);
            default -> throw new AssertionError(values);
        }
        return new NpyArray(dtype, shape, data);
    }
}
