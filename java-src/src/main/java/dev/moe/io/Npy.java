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
 * <p>Reading memory-maps the file and returns a zero-copy view of its data after checking every part of
 * it; anything this library cannot read exactly is rejected with an {@link NpyFormatException} whose
 * message names the file and the problem. Writing produces the same bytes as {@code numpy.save} and is
 * atomic: the file is written to a temporary file in the same directory, forced to disk and renamed over
 * the target, so readers see either the old file or the complete new one.
 */
public final class Npy {
    private Npy() {
    }

    /**
     * Reads a {@code .npy} file by memory-mapping it.
     *
     * <p>The returned array's data is a read-only view of the mapping, valid while {@code arena} is
     * alive; closing the arena unmaps the file. The view is aligned to the element size for files numpy
     * wrote (numpy starts the data at a multiple of 64 bytes) but not necessarily for others.
     *
     * @param file the file to read
     * @param arena the arena that owns the mapping
     * @return the array
     * @throws NpyFormatException if the file is not a valid {@code .npy} file of a supported version,
     *     dtype and order, or its data section does not match its header
     * @throws IOException if the file cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
     */
    public static NpyArray read(Path file, Arena arena) throws IOException {
        return NpyReader.read(Objects.requireNonNull(file, "file"), Objects.requireNonNull(arena, "arena"));
    }

    /**
     * Reads a {@code .npy} file of float32 or float64 data as float32.
     *
     * <p>{@code <f4} data is the memory-mapped file itself, as with {@link #read} (copied into
     * {@code arena} only if it is not 4-byte aligned). {@code <f8} data is converted, rounding to
     * nearest, into a float segment allocated in {@code arena}; the file is unmapped afterwards.
     *
     * @param file the file to read
     * @param arena the arena that owns the mapping or the converted data
     * @return a {@link NpyDType#FLOAT32} array, 4-byte aligned
     * @throws NpyFormatException as for {@link #read}, and for any dtype other than float32 or float64,
     *     e.g. "expected float32 or float64 data, got int32 (&lt;i4)"
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
