package dev.moe.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryTensorWithoutCopies() throws IOException {
        Path f = dir.resolve("t.safetensors");
        byte[] codes = {0x00, 0x7E, (byte) 0xFE, 0x01, 0x38, (byte) 0x80};
        new SafetensorsWriter().addF32("a", new float[] {1.5f, -2f, 3.25f, 0f}, 2, 2)
                .addBf16("b", new float[] {1f, -0.5f, 3.140625f}, 3)
                .add("c", SafetensorsDType.F8_E4M3, codes, 2, 3)
                .addF32("scalar", new float[] {7f})
                .metadata("format", "pt").write(f);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            assertEquals(List.of("a", "b", "c", "scalar"), s.names());
            assertEquals("pt", s.metadata().get("format"));
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 0f}, s.tensor("a").require(SafetensorsDType.F32, 2, 2).toFloatArray());
            assertArrayEquals(new float[] {1f, -0.5f, 3.140625f}, s.tensor("b").toFloatArray());
            assertArrayEquals(codes, s.tensor("c").toByteArray());
            assertEquals(0, s.tensor("scalar").shape().length);
            assertEquals(1, s.tensor("scalar").elementCount());
            assertTrue(s.tensor("c").data().isMapped(), "tensors are views of the mapping");
            assertThrows(IllegalArgumentException.class, () -> s.tensor("missing"));
            assertThrows(IllegalArgumentException.class, () -> s.tensor("a").require(SafetensorsDType.BF16, 2, 2));
        }
        // The header is padded to 8 bytes with spaces, as the reference writer does.
        byte[] bytes = Files.readAllBytes(f);
        long headerSize = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerSize % 8);
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        Path f = dir.resolve("b.safetensors");
        float up = Float.intBitsToFloat(0x3F808001);    // just above the halfway point: rounds up
        float tie = Float.intBitsToFloat(0x3F808000);   // halfway, even below: stays 0x3F80
        float tieOdd = Float.intBitsToFloat(0x3F818000); // halfway, odd below: rounds up to 0x3F82
        new SafetensorsWriter().addBf16("x", new float[] {up, tie, tieOdd}, 3).write(f);
        try (Arena arena = Arena.ofConfined()) {
            float[] v = SafetensorsFile.open(f, arena).tensor("x").toFloatArray();
            assertEquals(0x3F810000, Float.floatToRawIntBits(v[0]));
            assertEquals(0x3F800000, Float.floatToRawIntBits(v[1]));
            assertEquals(0x3F820000, Float.floatToRawIntBits(v[2]));
        }
    }

    private Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private void rejected(Path p, String fragment) throws IOException {
        byte[] before = Files.readAllBytes(p);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(p, arena));
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(p), "a rejected file is left untouched");
    }

    @Test
    void corruptFilesAreRejectedWithTheProblemNamed() throws IOException {
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[] {1, 2, 3});
        rejected(tiny, "shorter than the 8-byte header size");
        Path huge = dir.resolve("huge");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        rejected(huge, "does not fit");
        Path negative = dir.resolve("negative");
        Files.write(negative, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-8).array());
        rejected(negative, "does not fit");
        rejected(raw("notjson", "{\"a\": [", 0), "not valid JSON");
        rejected(raw("array", "[1, 2]", 0), "not a JSON object");
        rejected(raw("dtype", "{\"a\":{\"dtype\":\"F64X\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "unsupported dtype 'F64X'");
        rejected(raw("dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "invalid dimension");
        rejected(raw("range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "outside the 4 data bytes");
        rejected(raw("size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs 12");
        rejected(raw("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlap");
        rejected(raw("fields", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "two data_offsets");
        rejected(raw("meta", "{\"__metadata__\":{\"k\":3}}", 0), "not a string");
        rejected(raw("overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4),
                "too large");
    }

    @Test
    void theTensorsMustTileTheDataAndTheHeaderBeStrictUtf8Json() throws IOException {
        rejected(raw("trailing", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 7),
                "3 trailing bytes after the last tensor ('a')");
        rejected(raw("gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "4 unused bytes before tensor 'b'");
        rejected(raw("empty", "{}", 2), "2 trailing bytes after the last tensor");
        rejected(raw("duplicate", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "Duplicate field 'a'");
        rejected(raw("nested", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "Duplicate field 'dtype'");
        Path utf8 = raw("utf8", "{\"a\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        byte[] bytes = Files.readAllBytes(utf8);
        bytes[8 + 3] = (byte) 0xFF;  // the first byte of the two-byte 'é': now invalid UTF-8
        Files.write(utf8, bytes);
        rejected(utf8, "header is not valid UTF-8");
        // Zero-size tensors may share an offset with their neighbours.
        Path zero = raw("zero", "{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(List.of("z", "a"), SafetensorsFile.open(zero, arena).names());
        }
    }

    @Test
    void aFileTruncatedWhileMappedIsAnErrorNotACrash() throws IOException {
        Path f = dir.resolve("t.safetensors");
        new SafetensorsWriter().addF32("a", new float[1 << 20], 1 << 20).add("c", SafetensorsDType.U8, new byte[1 << 20], 1 << 20)
                .write(f);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(4096);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.tensor("a").toFloatArray());
            assertTrue(e.getMessage().startsWith("tensor 'a' could not be read: the file was truncated"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> s.tensor("c").toByteArray());
        }
    }

    @Test
    void writerRejectsMismatchedSizes() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> w.add("x", SafetensorsDType.F32, new byte[3], 1));
        w.addF32("x", new float[] {1f}, 1);
        assertThrows(IllegalArgumentException.class, () -> w.addF32("x", new float[] {1f}, 1));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("__metadata__", new float[] {1f}, 1));
    }
}
