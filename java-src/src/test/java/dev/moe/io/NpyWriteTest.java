package dev.moe.io;

import static dev.moe.io.NpyTestFiles.fixture;
import static dev.moe.io.NpyTestFiles.listing;
import static dev.moe.io.NpyTestFiles.resourceBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class NpyWriteTest {
    @TempDir
    Path dir;

    /** The arrays make_fixtures.py saved under expected/, built here the same way. */
    static Stream<Arguments> sameAsNumpy() {
        float[] quarters = new float[12];
        for (int i = 0; i < 12; i++) {
            quarters[i] = i * 0.25f;
        }
        long[] pad64Shape = new long[14];
        Arrays.fill(pad64Shape, 1);
        pad64Shape[13] = 100;
        float[] hundred = new float[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = i;
        }
        return Stream.of(
                Arguments.of("f4_3x4.npy", Npy.ofFloats(quarters, 3, 4)),
                Arguments.of("f8_5.npy", Npy.ofDoubles(new double[] {0.5, -1.25, 1e300, -0.0, 3.0}, 5)),
                Arguments.of("i4_3x4.npy", Npy.ofInts(IntStream.range(-6, 6).toArray(), 3, 4)),
                Arguments.of("i8_2x3.npy", Npy.ofLongs(new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE, 1, -1, 1L << 40}, 2, 3)),
                Arguments.of("u1_5.npy", Npy.ofBytes(new byte[] {0, 1, 127, (byte) 128, (byte) 255}, 5)),
                Arguments.of("f4_0d.npy", Npy.ofFloats(new float[] {42f})),
                Arguments.of("i4_5.npy", Npy.ofInts(new int[] {1, 2, 3, 4, 5}, 5)),
                Arguments.of("f4_0x8.npy", Npy.ofFloats(new float[0], 0, 8)),
                Arguments.of("i8_1000000x0.npy", Npy.ofLongs(new long[0], 1_000_000, 0)),
                Arguments.of("f4_pad64.npy", Npy.ofFloats(hundred, pad64Shape)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void sameAsNumpy(String name, NpyArray array) throws IOException {
        Path file = dir.resolve(name);
        Npy.write(file, array);
        assertArrayEquals(resourceBytes("expected/" + name), Files.readAllBytes(file));
    }

    /** Files numpy wrote come back byte for byte after a read and a write. */
    @ParameterizedTest
    @ValueSource(strings = {"f4_3x4.npy", "f8_6.npy", "i4_2x3.npy", "i8_2x2.npy", "u1_4x4.npy", "f4_0d.npy",
        "i4_5.npy", "f4_0x8.npy"})
    void rewritingANumpyFileReproducesIt(String name) throws IOException {
        Path original = fixture(dir, name);
        Path copy = dir.resolve("copy.npy");
        try (Arena arena = Arena.ofConfined()) {
            Npy.write(copy, Npy.read(original, arena));
        }
        assertArrayEquals(Files.readAllBytes(original), Files.readAllBytes(copy));
    }

    static Stream<Arguments> roundTrip() {
        List<Arguments> cases = new ArrayList<>();
        long[][] shapes = {{}, {5}, {0, 8}, {3, 4}};
        for (NpyDType dtype : NpyDType.values()) {
            for (long[] shape : shapes) {
                cases.add(Arguments.of(dtype, shape));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource
    void roundTrip(NpyDType dtype, long[] shape) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            long bytes = LongStream.of(shape).reduce(1, Math::multiplyExact) * dtype.itemSize();
            MemorySegment data = arena.allocate(Math.max(bytes, 1)).asSlice(0, bytes);
            for (long i = 0; i < bytes; i++) {
                data.set(ValueLayout.JAVA_BYTE, i, (byte) (31 * i + 7));
            }
            Path file = dir.resolve("rt.npy");
            Npy.write(file, dtype, shape, data);
            NpyArray read = Npy.read(file, arena);
            assertEquals(dtype, read.dtype());
            assertArrayEquals(shape, read.shape());
            assertEquals(-1, data.mismatch(read.data()));
            assertEquals(new NpyArray(dtype, shape, data), read);
            assertEquals(0, (Files.size(file) - bytes) % 64, "data starts at a multiple of 64 bytes");
        }
    }

    @Test
    void typedValuesRoundTrip() throws IOException {
        Path file = dir.resolve("values.npy");
        float[] floats = {Float.NaN, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, 1.1f};
        Npy.write(file, Npy.ofFloats(floats, 2, 3));
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(floats, Npy.read(file, arena).toFloatArray());
            Npy.write(file, Npy.ofDoubles(new double[] {Math.PI, -1e-310}, 2));
            assertArrayEquals(new double[] {Math.PI, -1e-310}, Npy.read(file, arena).toDoubleArray());
            Npy.write(file, Npy.ofLongs(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, 1, 2));
            assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, Npy.read(file, arena).toLongArray());
        }
    }

    @Test
    void headersTooLongForVersion1UseVersion2() throws IOException {
        long[] shape = new long[25_000];
        Arrays.fill(shape, 1);
        Path file = dir.resolve("v2.npy");
        Npy.write(file, Npy.ofInts(new int[] {12345}, shape));
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(2, bytes[6]);
        assertEquals(0, bytes[7]);
        long headerLength = ByteBuffer.wrap(bytes, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertTrue(headerLength > 0xFFFF);
        assertEquals(0, (12 + headerLength) % 64);
        assertEquals('\n', bytes[(int) (12 + headerLength - 1)]);
        try (Arena arena = Arena.ofConfined()) {
            NpyArray read = Npy.read(file, arena);
            assertArrayEquals(shape, read.shape());
            assertArrayEquals(new int[] {12345}, read.toIntArray());
        }
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path file = dir.resolve("out.npy");
        Npy.write(file, Npy.ofInts(new int[] {1, 2, 3}, 3));
        Npy.write(file, Npy.ofBytes(new byte[] {9}, 1));
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new byte[] {9}, Npy.read(file, arena).toByteArray());
        }
        assertEquals(List.of("out.npy"), listing(dir));
    }

    @Test
    void dataOfTheWrongSizeFailsAndLeavesTheOldFileAlone() throws IOException {
        Path file = dir.resolve("logits.npy");
        Npy.write(file, Npy.ofFloats(new float[] {1, 2, 3, 4}, 2, 2));
        byte[] before = Files.readAllBytes(file);

        MemorySegment tooShort = MemorySegment.ofArray(new byte[40]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(file, NpyDType.FLOAT32, new long[] {3, 4}, tooShort));
        assertEquals(file + ": data has 40 bytes but a float32 (<f4) array of shape (3, 4) needs 48", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(file, NpyDType.FLOAT32, new long[] {-1, 4}, tooShort));

        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("logits.npy"), listing(dir));
    }

    @Test
    void aFailureWhileWritingDeletesTheTemporaryFileAndLeavesTheOldFileAlone() throws IOException {
        Path file = dir.resolve("logits.npy");
        Npy.write(file, Npy.ofFloats(new float[] {1, 2, 3, 4}, 2, 2));
        byte[] before = Files.readAllBytes(file);

        MemorySegment gone;
        try (Arena arena = Arena.ofConfined()) {
            gone = arena.allocate(48);
        }
        // the size is right, so the failure only comes when the data is copied into the temporary file
        assertThrows(IllegalStateException.class, () -> Npy.write(file, NpyDType.FLOAT32, new long[] {3, 4}, gone));

        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("logits.npy"), listing(dir));
    }

    @Test
    void aMissingDirectoryFailsWithoutCreatingAnything() {
        Path file = dir.resolve("no/such/dir/out.npy");
        FileArgumentException e = assertThrows(FileArgumentException.class, () -> Npy.write(file, Npy.ofInts(new int[] {1}, 1)));
        assertEquals(file + ": directory " + file.getParent() + " does not exist", e.getMessage());
        assertTrue(Files.notExists(dir.resolve("no")));
    }

    @Test
    void permissionsFollowTheUmaskLikeNumpy() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path reference = Files.createFile(dir.resolve("reference"));
        Path file = dir.resolve("out.npy");
        Npy.write(file, Npy.ofInts(new int[] {1}, 1));
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(file));
    }

    @Test
    void writesNativeAndMappedSegments() throws IOException {
        Path file = dir.resolve("native.npy");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment floats = arena.allocate(ValueLayout.JAVA_FLOAT, 6);
            for (int i = 0; i < 6; i++) {
                floats.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i + 0.5f);
            }
            Npy.write(file, NpyDType.FLOAT32, new long[] {2, 3}, floats);
            NpyArray mapped = Npy.read(file, arena);
            Path copy = dir.resolve("copy.npy");
            Npy.write(copy, mapped);
            assertArrayEquals(new float[] {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, Npy.read(copy, arena).toFloatArray());
        }
    }

    @Test
    void heapSegmentsOfOtherArraysAreWritten() throws IOException {
        Path file = dir.resolve("heap.npy");
        Npy.write(file, NpyDType.INT64, new long[] {3}, MemorySegment.ofArray(new long[] {1, 2, 3}));
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(3, Npy.read(file, arena).toLongArray().length);
        }
    }
}
