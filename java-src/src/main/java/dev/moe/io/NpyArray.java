package dev.moe.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array as stored in a {@code .npy} file: a dtype, a shape and the raw element bytes,
 * little-endian and in C (row-major) order.
 *
 * <p>{@code data} is exactly {@code elementCount() * dtype.itemSize()} bytes; the constructor checks
 * this. Arrays returned by {@link Npy#read} hold a read-only copy of the file's data (by {@link Npy#map},
 * a read-only view of the mapped file), valid as long as the arena they were read into. The shape is copied on the way in and out.
 *
 * <p>{@link #equals} compares dtype, shape and data contents.
 *
 * @param dtype the element type
 * @param shape the dimensions, each non-negative; empty for a 0-d (scalar) array
 * @param data the element bytes
 */
public record NpyArray(NpyDType dtype, long[] shape, MemorySegment data) {

    /**
     * Creates an array, checking the shape and the size of {@code data}.
     *
     * @throws IllegalArgumentException if a dimension is negative, the element count overflows, or
     *     {@code data} does not have exactly the bytes the shape needs
     */
    public NpyArray {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        shape = Objects.requireNonNull(shape, "shape").clone();
        long bytes = byteSize(dtype, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("data has " + data.byteSize() + " bytes but a " + dtype.label()
                    + " array of shape " + formatShape(shape) + " needs " + bytes);
        }
    }

    /** {@return a copy of the shape} */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of dimensions (0 for a scalar)} */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns the size of one dimension.
     *
     * @param axis the dimension, from 0
     * @return its size
     * @throws IndexOutOfBoundsException if {@code axis} is not in {@code [0, rank())}
     */
    public long dim(int axis) {
        Objects.checkIndex(axis, shape.length);
        return shape[axis];
    }

    /** {@return the number of elements: the product of the dimensions (1 for a scalar)} */
    public long elementCount() {
        return elementCount(shape);
    }

    /** {@return the shape as Python writes a tuple: {@code ()}, {@code (5,)}, {@code (3, 4)}} */
    public String shapeString() {
        return formatShape(shape);
    }

    /**
     * Checks the number of dimensions.
     *
     * @param rank the expected number of dimensions
     * @param what names the array in the message, typically the file name
     * @return this array
     * @throws IllegalArgumentException e.g. "logits.npy: expected a 2-d array, got shape (3,)"
     */
    public NpyArray requireRank(int rank, String what) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(what + ": expected a " + rank + "-d array, got shape " + shapeString());
        }
        return this;
    }

    /**
     * Checks the number of dimensions, naming them in the message.
     *
     * @param what names the array in the message, typically the file name
     * @param axisNames one name per expected dimension, e.g. {@code "T", "N"}
     * @return this array
     * @throws IllegalArgumentException e.g. "logits.npy: expected a 2-d array [T, N], got shape (3,)"
     */
    public NpyArray requireAxes(String what, String... axisNames) {
        if (shape.length != axisNames.length) {
            throw new IllegalArgumentException(what + ": expected a " + axisNames.length + "-d array ["
                    + String.join(", ", axisNames) + "], got shape " + shapeString());
        }
        return this;
    }

    /**
     * Checks the element type.
     *
     * @param expected the required dtype
     * @param what names the array in the message, typically the file name
     * @return this array
     * @throws IllegalArgumentException e.g. "ids.npy: expected int32 (&lt;i4) data, got float32 (&lt;f4)"
     */
    public NpyArray requireDType(NpyDType expected, String what) {
        if (dtype != expected) {
            throw new IllegalArgumentException(what + ": expected " + expected.label() + " data, got " + dtype.label());
        }
        return this;
    }

    /**
     * Copies float32 data into a new array.
     *
     * @return the elements in C order
     * @throws IllegalStateException if the dtype is not float32
     */
    public float[] toFloatArray() {
        return data.toArray((ValueLayout.OfFloat) layoutFor(NpyDType.FLOAT32, "toFloatArray"));
    }

    /**
     * Copies float64 data into a new array.
     *
     * @return the elements in C order
     * @throws IllegalStateException if the dtype is not float64
     */
    public double[] toDoubleArray() {
        return data.toArray((ValueLayout.OfDouble) layoutFor(NpyDType.FLOAT64, "toDoubleArray"));
    }

    /**
     * Copies int32 data into a new array.
     *
     * @return the elements in C order
     * @throws IllegalStateException if the dtype is not int32
     */
    public int[] toIntArray() {
        return data.toArray((ValueLayout.OfInt) layoutFor(NpyDType.INT32, "toIntArray"));
    }

    /**
     * Copies int64 data into a new array.
     *
     * @return the elements in C order
     * @throws IllegalStateException if the dtype is not int64
     */
    public long[] toLongArray() {
        return data.toArray((ValueLayout.OfLong) layoutFor(NpyDType.INT64, "toLongArray"));
    }

    /**
     * Copies uint8 data into a new array (values above 127 come out negative).
     *
     * @return the elements in C order
     * @throws IllegalStateException if the dtype is not uint8
     */
    public byte[] toByteArray() {
        return data.toArray((ValueLayout.OfByte) layoutFor(NpyDType.UINT8, "toByteArray"));
    }

    private ValueLayout layoutFor(NpyDType wanted, String method) {
        if (dtype != wanted) {
            throw new IllegalStateException(method + "() needs " + wanted.label() + " data, this array is " + dtype.label());
        }
        return wanted.layout();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray other
                && dtype == other.dtype
                && Arrays.equals(shape, other.shape)
                && data.mismatch(other.data) == -1;
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype.label() + ", shape " + shapeString() + "]";
    }

    /** Product of the dimensions; throws IllegalArgumentException for a negative dimension or overflow. */
    static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d + " in shape " + formatShape(shape));
            }
            if (d == 0) {
                count = 0; // keep checking for negative dimensions, but (huge, huge, 0) is empty, not an overflow
            }
        }
        if (count == 0) {
            return 0;
        }
        try {
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            return count;
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + formatShape(shape) + " has too many elements to count in 64 bits");
        }
    }

    /** Bytes needed for the shape; throws IllegalArgumentException for a negative dimension or overflow. */
    static long byteSize(NpyDType dtype, long[] shape) {
        long count = elementCount(shape);
        try {
            return Math.multiplyExact(count, (long) dtype.itemSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + formatShape(shape) + " of " + dtype.typeName()
                    + " has too many bytes to count in 64 bits");
        }
    }

    /** The Python repr of a tuple of ints: "()", "(5,)", "(3, 4)". */
    static String formatShape(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(')').toString();
    }
}
