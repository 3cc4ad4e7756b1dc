package dev.moe.io;

import static dev.moe.io.NpyTestFiles.assertRejected;
import static dev.moe.io.NpyTestFiles.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads files numpy wrote (see src/test/resources/npy/make_fixtures.py) and checks every value exactly. */
class NpyReadFixturesTest {
    private static final float[] F4_3X4 = {
        0.0f, -0.0f, 1.5f, -2.25f,
        3.0e-8f, 1e-45f, 3.4028235e38f, Float.NEGATIVE_INFINITY,
        Float.POSITIVE_INFINITY, Float.NaN, 0.1f, 100.0f,
    };
    private static final double[] F8_6 = {0.1, -1e300, 1.0 / 3.0, 5e-324, -0.0, 16777217.0};

    @TempDir
    Path dir;
    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofConfined();
    }

    @AfterEach
    void closeArena() {
        arena.close();
    }

    @Test
    void float32Matrix() throws IOException {
        NpyArray array = Npy.read(fixture(dir, "f4_3x4.npy"), arena);
        assertEquals(NpyDType.FLOAT32, array.dtype());
        assertArrayEquals(new long[] {3, 4}, array.shape());
        assertBitsEqual(F4_3X4, array.toFloatArray());
    }

    @Test
    void mapIsAZeroCopyReadOnlyMapping() throws IOException {
        NpyArray array = Npy.map(fixture(dir, "f4_3x4.npy"), arena);
        MemorySegment data = array.data();
        assertTrue(data.isMapped());
        assertTrue(data.isReadOnly());
        assertEquals(0, data.address() % 64, "numpy aligns the data to 64 bytes");
        assertEquals(arena.scope(), data.scope());
        assertBitsEqual(F4_3X4, array.toFloatArray());
    }

    @Test
    void readIsAPrivateAlignedReadOnlyCopy() throws IOException {
        NpyArray array = Npy.read(fixture(dir, "f4_3x4.npy"), arena);
        MemorySegment data = array.data();
        assertFalse(data.isMapped(), "a copy, which a later change to the file cannot reach");
        assertTrue(data.isNative());
        assertTrue(data.isReadOnly());
        assertEquals(0, data.address() % 64);
        assertEquals(arena.scope(), data.scope());
    }

    @Test
    void dataIsGoneWhenTheArenaCloses() throws IOException {
        NpyArray array;
        try (Arena scoped = Arena.ofConfined()) {
            array = Npy.read(fixture(dir, "f4_3x4.npy"), scoped);
        }
        assertThrows(IllegalStateException.class, array::toFloatArray);
    }

    @Test
    void float64Vector() throws IOException {
        NpyArray array = Npy.read(fixture(dir, "f8_6.npy"), arena);
        assertEquals(NpyDType.FLOAT64, array.dtype());
        assertArrayEquals(new long[] {6}, array.shape());
        double[] values = array.toDoubleArray();
        for (int i = 0; i < F8_6.length; i++) {
            assertEquals(Double.doubleToRawLongBits(F8_6[i]), Double.doubleToRawLongBits(values[i]), "element " + i);
        }
    }

    @Test
    void int32Int64AndUint8() throws IOException {
        NpyArray i4 = Npy.read(fixture(dir, "i4_2x3.npy"), arena);
        assertEquals(NpyDType.INT32, i4.dtype());
        assertArrayEquals(new long[] {2, 3}, i4.shape());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, -1, 0, 1, 123456789, Integer.MAX_VALUE}, i4.toIntArray());

        NpyArray i8 = Npy.read(fixture(dir, "i8_2x2.npy"), arena);
        assertEquals(NpyDType.INT64, i8.dtype());
        assertArrayEquals(new long[] {2, 2}, i8.shape());
        assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 1L << 40, Long.MAX_VALUE}, i8.toLongArray());

        NpyArray u1 = Npy.read(fixture(dir, "u1_4x4.npy"), arena);
        assertEquals(NpyDType.UINT8, u1.dtype());
        assertArrayEquals(new long[] {4, 4}, u1.shape());
        byte[] bytes = u1.toByteArray();
        for (int i = 0; i < 16; i++) {
            assertEquals(17 * i, Byte.toUnsignedInt(bytes[i]), "element " + i);
        }
    }

    @Test
    void scalarVectorAndEmptyShapes() throws IOException {
        NpyArray scalar = Npy.read(fixture(dir, "f4_0d.npy"), arena);
        assertEquals(0, scalar.rank());
        assertArrayEquals(new float[] {-7.5f}, scalar.toFloatArray());

        NpyArray vector = Npy.read(fixture(dir, "i4_5.npy"), arena);
        assertArrayEquals(new long[] {5}, vector.shape());
        assertArrayEquals(new int[] {10, 20, 30, 40, 50}, vector.toIntArray());

        NpyArray empty = Npy.read(fixture(dir, "f4_0x8.npy"), arena);
        assertArrayEquals(new long[] {0, 8}, empty.shape());
        assertEquals(0, empty.data().byteSize());
    }

    @Test
    void formatVersion2() throws IOException {
        NpyArray array = Npy.read(fixture(dir, "f4_2x3_v2.npy"), arena);
        assertArrayEquals(new long[] {2, 3}, array.shape());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, array.toFloatArray());
    }

    @Test
    void readFloat32CopiesFloat32() throws IOException {
        NpyArray array = Npy.readFloat32(fixture(dir, "f4_3x4.npy"), arena);
        assertEquals(NpyDType.FLOAT32, array.dtype());
        assertFalse(array.data().isMapped());
        assertBitsEqual(F4_3X4, array.toFloatArray());
    }

    @Test
    void readFloat32ConvertsFloat64RoundingToNearest() throws IOException {
        NpyArray array = Npy.readFloat32(fixture(dir, "f8_6.npy"), arena);
        assertEquals(NpyDType.FLOAT32, array.dtype());
        assertArrayEquals(new long[] {6}, array.shape());
        assertFalse(array.data().isMapped());
        assertEquals(0, array.data().address() % Float.BYTES);
        float[] expected = new float[F8_6.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (float) F8_6[i];
        }
        assertBitsEqual(expected, array.toFloatArray());
        // spelled out: overflow to -inf, underflow to 0, ties to even
        assertBitsEqual(new float[] {0.1f, Float.NEGATIVE_INFINITY, 0.33333334f, 0f, -0f, 16777216f},
                array.toFloatArray());
    }

    @Test
    void readFloat32RejectsOtherTypes() throws IOException {
        Path file = fixture(dir, "i4_2x3.npy");
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readFloat32(file, arena));
        assertEquals(file + ": expected float32 or float64 data, got int32 (<i4)", e.getMessage());
    }

    @Test
    void fortranOrderIsRejected() throws IOException {
        Path file = fixture(dir, "fortran_f4_2x3.npy");
        NpyFormatException e = assertRejected(file);
        assertEquals("Fortran-order arrays are not supported; save with np.ascontiguousarray", e.problem());
    }

    @Test
    void bigEndianIsRejected() throws IOException {
        Path file = fixture(dir, "big_endian_f4.npy");
        assertRejected(file, "big-endian dtype '>f4'", "astype('<f4')");
        assertThrows(NpyFormatException.class, () -> Npy.readFloat32(file, arena));
    }

    @Test
    void float16IsRejected() throws IOException {
        assertRejected(fixture(dir, "f2_4.npy"), "unsupported dtype '<f2' (float16)", "supported: '<f4' (float32)");
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
