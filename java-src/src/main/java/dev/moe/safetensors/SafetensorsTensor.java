package dev.moe.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: a read-only view of the mapped file, no copy.
 *
 * @param name  the tensor's name in the header
 * @param dtype its element type
 * @param shape its dimensions (empty for a scalar)
 * @param data  its bytes, a slice of the memory-mapped file
 */
public record SafetensorsTensor(String name, SafetensorsDType dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@return the number of elements: the product of the dimensions (1 for a scalar)} */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * The size of one dimension.
     *
     * @param i the dimension, from 0
     * @return its size
     * @throws ArrayIndexOutOfBoundsException if {@code i} is not a dimension
     */
    public long dim(int i) {
        return shape[i];
    }

    /** {@return the shape as text, e.g. {@code [256, 7168]}} */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    /**
     * Checks dtype and shape, naming the tensor in the error.
     *
     * @param want the required dtype
     * @param dims the required shape
     * @return this tensor
     * @throws IllegalArgumentException if the dtype or the shape differs
     */
    public SafetensorsTensor require(SafetensorsDType want, long... dims) {
        if (dtype != want || !Arrays.equals(shape, dims)) {
            throw new IllegalArgumentException("tensor '" + name + "': expected " + want + " " + Arrays.toString(dims) + ", got "
                    + dtype + " " + shapeString());
        }
        return this;
    }

    /**
     * The elements as FP32 (F32 as is; BF16 and F16 widened exactly). Copies into the heap.
     *
     * @return the elements in row-major order
     * @throws IllegalArgumentException if the dtype is not F32, BF16 or F16
     * @throws IllegalStateException if there are too many elements for a Java array, or the mapped file was
     *         truncated after it was opened (reading the lost pages faults)
     */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor '" + name + "' has " + n + " elements, too many for a Java array");
        }
        float[] out = new float[(int) n];
        try {
            switch (dtype) {
                case F32 -> MemorySegment.copy(data, F32, 0, out, 0, out.length);
                case BF16 -> {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = Float.intBitsToFloat((data.getAtIndex(U16, i) & 0xFFFF) << 16);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = Float.float16ToFloat(data.getAtIndex(U16, i));
                    }
                }
                default -> throw new IllegalArgumentException("tensor '" + name + "' is " + dtype + ", not a floating-point type");
            }
        } catch (InternalError e) {
            throw unreadable(e);
        }
        return out;
    }

    /**
     * {@return the raw bytes (e.g. E4M3 codes), copied into the heap}
     *
     * @throws IllegalStateException as for {@link #toFloatArray()}, if the mapped file was truncated
     */
    public byte[] toByteArray() {
        try {
            return data.toArray(ValueLayout.JAVA_BYTE);
        } catch (InternalError e) {
            throw unreadable(e);
        }
    }

    /**
     * A read of the mapping that faulted (the JVM reports SIGBUS in Java code as an InternalError): the
     * file was truncated after it was opened, or its storage failed.
     */
    private IllegalStateException unreadable(InternalError e) {
        return new IllegalStateException("tensor '" + name + "' could not be read: the file was truncated or changed after it "
                + "was opened (or its storage failed)", e);
    }
}
