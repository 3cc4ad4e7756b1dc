package dev.moe.io;

import static dev.moe.io.NpyTestFiles.assertRejected;
import static dev.moe.io.NpyTestFiles.file;
import static dev.moe.io.NpyTestFiles.npyWithHeader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Damaged and unusual files: each is rejected with a message naming the file and the problem. */
class NpyCorruptionTest {
    @TempDir
    Path dir;

    /** A valid float32 (3, 4) file as numpy would write it: 128-byte header, 48 bytes of data. */
    private static byte[] valid() {
        byte[] header = NpyHeader.encode(NpyDType.FLOAT32, new long[] {3, 4});
        return Arrays.copyOf(header, header.length + 48);
    }

    @Test
    void theBaselineIsValid() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new long[] {3, 4}, Npy.read(file(dir, "ok.npy", valid()), arena).shape());
        }
    }

    @Test
    void zeroLengthFile() throws IOException {
        assertRejected(file(dir, "empty.npy", new byte[0]), "empty file (0 bytes), not a .npy file");
    }

    @Test
    void fileShorterThanThePreamble() throws IOException {
        assertRejected(file(dir, "short.npy", Arrays.copyOf(valid(), 7)), "too short for a .npy file: 7 bytes");
    }

    @Test
    void directoryAndFifoAreRefusedWithoutBlocking() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d.npy"));
        try (Arena arena = Arena.ofConfined()) {
            FileArgumentException e = assertThrows(FileArgumentException.class, () -> Npy.read(d, arena));
            assertEquals(d + ": is a directory, not a file", e.getMessage());
            Path fifo = NpyTestFiles.fifo(dir.resolve("fifo.npy"));
            // Opening a FIFO for reading would block until a writer appears; the reader refuses it at once.
            e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                    () -> assertThrows(FileArgumentException.class, () -> Npy.read(fifo, arena)));
            assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        }
    }

    @Test
    void badMagic() throws IOException {
        byte[] bytes = valid();
        bytes[1] = 'X';
        assertRejected(file(dir, "magic.npy", bytes),
                "not a .npy file: bad magic bytes 93 58 55 4d 50 59 (expected 93 4e 55 4d 50 59, i.e. \\x93NUMPY)");
        assertRejected(file(dir, "text.npy", "hello, world\n".getBytes()), "not a .npy file: bad magic bytes");
    }

    @Test
    void zipArchive() throws IOException {
        byte[] bytes = Arrays.copyOf(new byte[] {'P', 'K', 3, 4}, 64);
        assertRejected(file(dir, "arrays.npz", bytes), "not a .npy file: it is a zip archive");
    }

    @ParameterizedTest
    @CsvSource({"3, 0", "1, 1", "0, 0", "255, 9"})
    void unsupportedVersions(int major, int minor) throws IOException {
        byte[] bytes = valid();
        bytes[6] = (byte) major;
        bytes[7] = (byte) minor;
        NpyFormatException e = assertRejected(file(dir, "version.npy", bytes));
        assertEquals("unsupported .npy format version " + major + "." + minor + " (supported: 1.0, 2.0)", e.problem());
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        byte[] bytes = valid();
        bytes[8] = (byte) 0xFF;
        bytes[9] = (byte) 0xFF;
        NpyFormatException e = assertRejected(file(dir, "hlen.npy", bytes));
        assertEquals("header length 65535 runs past the end of the file (the header would end at byte 65545, "
                + "the file has 176 bytes)", e.problem());
    }

    @Test
    void version2HeaderLengthPastTheEndOfTheFile() throws IOException {
        byte[] bytes = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN)
                .put(NpyHeader.MAGIC).put((byte) 2).put((byte) 0).putInt(0xFFFF_FFF0).array();
        assertRejected(file(dir, "hlen2.npy", bytes), "header length 4294967280 runs past the end of the file");
        assertRejected(file(dir, "short2.npy", Arrays.copyOf(bytes, 11)), "too short for a version 2.0 .npy file: 11 bytes");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] bytes = valid();
        NpyFormatException e = assertRejected(file(dir, "truncated.npy", Arrays.copyOf(bytes, bytes.length - 8)));
        assertEquals("truncated: header promises 48 bytes of data, file has 40", e.problem());
        assertRejected(file(dir, "nodata.npy", Arrays.copyOf(bytes, 128)),
                "truncated: header promises 48 bytes of data, file has 0");
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] bytes = valid();
        NpyFormatException e = assertRejected(file(dir, "trailing.npy", Arrays.copyOf(bytes, bytes.length + 3)));
        assertEquals("3 trailing bytes after the data (header promises 48 bytes for a float32 (<f4) array of shape (3, 4))",
                e.problem());
    }

    @Test
    void missingKey() throws IOException {
        assertRejected(file(dir, "nokey.npy", npyWithHeader("{'descr': '<f4', 'fortran_order': False, }", 4)),
                "malformed .npy header: missing key 'shape' in \"{'descr': '<f4', 'fortran_order': False, }\"");
        assertRejected(file(dir, "nodescr.npy", npyWithHeader("{'fortran_order': False, 'shape': (), }", 4)),
                "missing key 'descr'");
    }

    @Test
    void unknownKey() throws IOException {
        assertRejected(file(dir, "extra.npy",
                        npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", 4)),
                "malformed .npy header: unexpected key 'extra' (a .npy header has exactly the keys 'descr', "
                        + "'fortran_order' and 'shape') at character 54");
    }

    @Test
    void duplicateKey() throws IOException {
        assertRejected(file(dir, "dup.npy",
                        npyWithHeader("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4)),
                "duplicate key 'descr' at character 17");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "(3, 4]            | expected ',' or ')' in 'shape', found ']'",
        "(12)              | 'shape' (12) is not a tuple; a 1-d shape is written with a trailing comma, e.g. (5,)",
        "[3, 4]            | 'shape' must be a tuple such as (3, 4), not a list",
        "3                 | 'shape' must be a tuple such as (3, 4)",
        "(3, x)            | invalid dimension 'x' in 'shape' (expected a non-negative integer)",
        "(3.0, 4)          | invalid dimension '3.0' in 'shape'",
        "(03, 4)           | invalid dimension '03' in 'shape'",
        "(1_2,)            | invalid dimension '1_2' in 'shape'",
        "(,)               | expected a dimension (a non-negative integer) in 'shape', found ','",
        "(3,, 4)           | expected a dimension (a non-negative integer) in 'shape', found ','",
        "(3 4)             | expected ',' or ')' in 'shape'",
        "(99999999999999999999,) | dimension 99999999999999999999 in 'shape' is too large",
    })
    void badShapeTuple(String shape, String problem) throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        assertRejected(file(dir, "shape.npy", npyWithHeader(header, 48)), "malformed .npy header: " + problem);
    }

    @ParameterizedTest
    @ValueSource(strings = {"(-1,)", "(3, -4)"})
    void negativeDimension(String shape) throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        assertRejected(file(dir, "negative.npy", npyWithHeader(header, 0)), "negative dimension -");
    }

    @Test
    void elementCountOverflow() throws IOException {
        assertRejected(file(dir, "overflow.npy", npyWithHeader(
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0)),
                "shape (4294967296, 4294967296) has too many elements to count in 64 bits");
        assertRejected(file(dir, "overflow8.npy", npyWithHeader(
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", 0)),
                "shape (2305843009213693952,) of float64 has too many bytes to count in 64 bits");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "[1, 2]                                                     | expected the header to be a dict starting with '{'",
        "''                                                         | expected the header to be a dict starting with '{'",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}          | 'fortran_order' must be True or False, found '0'",
        "{'descr': '<f4', 'fortran_order': false, 'shape': ()}      | 'fortran_order' must be True or False, found 'false'",
        "{'descr': <f4, 'fortran_order': False, 'shape': ()}        | expected a quoted dtype string for 'descr', found '<'",
        "{'descr': '<f4, 'fortran_order': False, 'shape': ()}       | expected ',' or '}' after the value of 'descr'",
        "{'descr': '<f4\\', 'fortran_order': False, 'shape': ()}    | escape sequences are not supported",
        "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x    | unexpected text after the closing '}'",
        "{'descr': '<f4', 'fortran_order': False 'shape': ()}       | expected ',' or '}' after the value of 'fortran_order'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': ()       | expected ',' or '}' after the value of 'shape'",
        "{'descr' '<f4', 'fortran_order': False, 'shape': ()}       | expected ':' after key 'descr', found '''",
        "{descr: '<f4', 'fortran_order': False, 'shape': ()}        | expected a quoted key or '}', found 'd'",
        "{'descr': '<f4', , 'shape': ()}                            | expected a quoted key or '}', found ','",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()} | descr is a list of fields: structured dtypes are not supported",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'descr: 1} | unterminated string at character 54",
    })
    void malformedDict(String header, String problem) throws IOException {
        assertRejected(file(dir, "dict.npy", npyWithHeader(header, 4)), "malformed .npy header: " + problem);
    }

    @Test
    void nonAsciiHeaderIsShownEscaped() throws IOException {
        assertRejected(file(dir, "latin1.npy", npyWithHeader("{'descr': '<f4', \u00e9}", 4)),
                "expected a quoted key or '}', found '\\xe9' at character 17 of \"{'descr': '<f4', \\xe9}\"");
    }

    @Test
    void longHeadersAreShortenedInMessages() throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, ".repeat(100) + "x)}";
        NpyFormatException e = assertRejected(file(dir, "long.npy", npyWithHeader(header, 4)), "invalid dimension 'x'");
        assertTrue(e.getMessage().endsWith("1, 1, 1,\"..."), e.getMessage());
    }

    @Test
    void unsupportedDescr() throws IOException {
        assertRejected(file(dir, "f2.npy", npyWithHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4)),
                "unsupported dtype '<f2' (float16); supported: '<f4' (float32), '<f8' (float64), '<i4' (int32), "
                        + "'<i8' (int64), '|u1' (uint8)");
        assertRejected(file(dir, "bool.npy", npyWithHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 2)),
                "unsupported dtype '|b1' (bool)");
    }

    @Test
    void bigEndian() throws IOException {
        assertRejected(file(dir, "be.npy", npyWithHeader("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", 8)),
                "big-endian dtype '>i8' (int64) is not supported; .npy data must be little-endian (convert with a.astype('<i8'))");
    }

    @Test
    void fortranOrder() throws IOException {
        NpyFormatException e = assertRejected(file(dir, "fortran.npy",
                npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", 48)));
        assertEquals("Fortran-order arrays are not supported; save with np.ascontiguousarray", e.problem());
    }

    /** What the strict parser still accepts: everything Python's literal syntax allows for these values. */
    @ParameterizedTest
    @ValueSource(strings = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
        "{\"shape\": (3, 4), \"descr\": \"<f4\", \"fortran_order\": False}",
        "{'fortran_order':False,'shape':(3,4,),'descr':'<f4'}",
        "  {\n\t'descr' : '<f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 3 , 4 ) ,\n}  \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }",
    })
    void lenientWhereNumpyIs(String header) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray array = Npy.read(file(dir, "variant.npy", npyWithHeader(header, 48)), arena);
            assertEquals(NpyDType.FLOAT32, array.dtype());
            assertArrayEquals(new long[] {3, 4}, array.shape());
        }
    }

    @Test
    void scalarAndVectorShapesParse() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(0, Npy.read(file(dir, "scalar.npy",
                    npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': ()}", 1)), arena).rank());
            assertArrayEquals(new long[] {7}, Npy.read(file(dir, "vector.npy",
                    npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (7,)}", 7)), arena).shape());
        }
    }
}
