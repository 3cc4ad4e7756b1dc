package dev.moe.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class NpyArrayTest {

    @Test
    void shapeIsCopiedInAndOut() {
        long[] shape = {3, 4};
        NpyArray array = new NpyArray(NpyDType.FLOAT32, shape, MemorySegment.ofArray(new byte[48]));
        shape[0] = 99;
        assertArrayEquals(new long[] {3, 4}, array.shape());
        array.shape()[1] = 99;
        assertArrayEquals(new long[] {3, 4}, array.shape());
    }

    @Test
    void rankDimAndCounts() {
        NpyArray scalar = Npy.ofFloats(new float[] {1f});
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.elementCount());
        assertEquals("()", scalar.shapeString());

        NpyArray vector = Npy.ofInts(new int[5], 5);
        assertEquals(1, vector.rank());
        assertEquals(5, vector.dim(0));
        assertEquals("(5,)", vector.shapeString());

        NpyArray empty = Npy.ofFloats(new float[0], 0, 8);
        assertEquals(0, empty.elementCount());
        assertEquals(8, empty.dim(1));
        assertEquals("(0, 8)", empty.shapeString());

        NpyArray matrix = Npy.ofLongs(new long[12], 3, 4);
        assertEquals(12, matrix.elementCount());
        assertEquals(96, matrix.data().byteSize());
        assertEquals("(3, 4)", matrix.shapeString());
        assertThrows(IndexOutOfBoundsException.class, () -> matrix.dim(2));
    }

    @Test
    void constructorChecksShapeAndDataSize() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[40]);
        assertEquals("data has 40 bytes but a float32 (<f4) array of shape (3, 4) needs 48",
                assertThrows(IllegalArgumentException.class,
                        () -> new NpyArray(NpyDType.FLOAT32, new long[] {3, 4}, bytes)).getMessage());
        assertEquals("negative dimension -1 in shape (3, -1)",
                assertThrows(IllegalArgumentException.class,
                        () -> new NpyArray(NpyDType.UINT8, new long[] {3, -1}, bytes)).getMessage());
        assertEquals("shape (4294967296, 4294967296) has too many elements to count in 64 bits",
                assertThrows(IllegalArgumentException.class,
                        () -> new NpyArray(NpyDType.UINT8, new long[] {1L << 32, 1L << 32}, bytes)).getMessage());
        assertEquals("shape (4611686018427387904,) of float32 has too many bytes to count in 64 bits",
                assertThrows(IllegalArgumentException.class,
                        () -> new NpyArray(NpyDType.FLOAT32, new long[] {1L << 62}, bytes)).getMessage());
        // a zero dimension makes any shape empty, however large the others
        NpyArray empty = new NpyArray(NpyDType.INT64, new long[] {Long.MAX_VALUE, Long.MAX_VALUE, 0},
                MemorySegment.ofArray(new byte[0]));
        assertEquals(0, empty.elementCount());
    }

    @Test
    void requireChecksNameTheArrayAndTheShape() {
        NpyArray vector = Npy.ofFloats(new float[3], 3);
        assertSame(vector, vector.requireRank(1, "logits.npy"));
        assertSame(vector, vector.requireAxes("bias.npy", "N"));
        assertSame(vector, vector.requireDType(NpyDType.FLOAT32, "bias.npy"));
        assertEquals("logits.npy: expected a 2-d array, got shape (3,)",
                assertThrows(IllegalArgumentException.class, () -> vector.requireRank(2, "logits.npy")).getMessage());
        assertEquals("logits.npy: expected a 2-d array [T, N], got shape (3,)",
                assertThrows(IllegalArgumentException.class,
                        () -> vector.requireAxes("logits.npy", "T", "N")).getMessage());
        assertEquals("ids.npy: expected int32 (<i4) data, got float32 (<f4)",
                assertThrows(IllegalArgumentException.class,
                        () -> vector.requireDType(NpyDType.INT32, "ids.npy")).getMessage());
    }

    @Test
    void typedCopiesCheckTheDType() {
        assertArrayEquals(new float[] {1.5f, -2f}, Npy.ofFloats(new float[] {1.5f, -2f}, 2).toFloatArray());
        assertArrayEquals(new double[] {0.1, 1e300}, Npy.ofDoubles(new double[] {0.1, 1e300}, 2).toDoubleArray());
        assertArrayEquals(new int[] {-1, 7}, Npy.ofInts(new int[] {-1, 7}, 2).toIntArray());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, Npy.ofLongs(new long[] {Long.MIN_VALUE}, 1).toLongArray());
        assertArrayEquals(new byte[] {(byte) 255, 0}, Npy.ofBytes(new byte[] {(byte) 255, 0}, 2).toByteArray());
        NpyArray ints = Npy.ofInts(new int[] {1}, 1);
        assertEquals("toFloatArray() needs float32 (<f4) data, this array is int32 (<i4)",
                assertThrows(IllegalStateException.class, ints::toFloatArray).getMessage());
        assertThrows(IllegalStateException.class, ints::toLongArray);
        assertThrows(IllegalStateException.class, ints::toDoubleArray);
        assertThrows(IllegalStateException.class, ints::toByteArray);
        assertThrows(IllegalStateException.class, () -> Npy.ofFloats(new float[1], 1).toIntArray());
    }

    @Test
    void factoriesStoreLittleEndianBytesAndCopyTheirInput() {
        int[] values = {0x01020304};
        NpyArray array = Npy.ofInts(values, 1);
        values[0] = 0;
        assertArrayEquals(new byte[] {4, 3, 2, 1}, array.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertEquals("shape (2, 2) needs 4 values but 3 were given",
                assertThrows(IllegalArgumentException.class, () -> Npy.ofFloats(new float[3], 2, 2)).getMessage());
        assertEquals("shape () needs 1 values but 3 were given",
                assertThrows(IllegalArgumentException.class, () -> Npy.ofFloats(new float[3])).getMessage());
    }

    @Test
    void equalityIsByContent() {
        NpyArray a = Npy.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
        NpyArray b = Npy.ofFloats(new float[] {1, 2, 3, 4}, 2, 2);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, Npy.ofFloats(new float[] {1, 2, 3, 5}, 2, 2));
        assertNotEquals(a, Npy.ofFloats(new float[] {1, 2, 3, 4}, 4));
        assertNotEquals(a, Npy.ofInts(new int[] {1, 2, 3, 4}, 2, 2));
        assertEquals("NpyArray[float32 (<f4), shape (2, 2)]", a.toString());
    }
}
