package dev.moe.balance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BiasStateFileTest {
    @TempDir
    Path dir;

    private BiasBalancer trained() {
        BiasBalancer b = new BiasBalancer(58, 256, BiasUpdateRule.SIGN, GammaSchedule.deepseekV3());
        long[][] counts = new long[58][256];
        for (int l = 0; l < 58; l++) {
            for (int i = 0; i < 256; i++) {
                counts[l][i] = (i * 7 + l) % 13;
            }
        }
        for (int s = 0; s < 5; s++) {
            b.endStep(counts, 1000);
        }
        return b;
    }

    @Test
    void roundTripRestoresEveryLayer() throws IOException {
        BiasBalancer b = trained();
        Path f = dir.resolve("bias.state");
        BiasStateFile.save(f, b.snapshot());
        BiasBalancer r = BiasBalancer.restore(BiasStateFile.load(f), BiasUpdateRule.SIGN, GammaSchedule.deepseekV3());
        assertEquals(5, r.step());
        assertEquals(5000, r.tokensSeen());
        for (int l = 0; l < 58; l++) {
            assertArrayEquals(b.bias(l), r.bias(l));
        }
        assertEquals(BiasUpdateRule.SIGN, BiasStateFile.load(f).rule());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BiasBalancer.restore(BiasStateFile.load(f), BiasUpdateRule.MULTIPLICATIVE, GammaSchedule.deepseekV3()));
        assertTrue(e.getMessage().contains("'sign'"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp files left");
        }
    }

    @Test
    void corruptFilesAreRejectedAndLeftUntouched() throws IOException {
        Path f = dir.resolve("bias.state");
        BiasStateFile.save(f, trained().snapshot());
        byte[] good = Files.readAllBytes(f);

        byte[] flipped = good.clone();
        flipped[100] ^= 1;
        assertCorrupt(flipped, "checksum");
        assertCorrupt(Arrays.copyOf(good, good.length - 9), "truncated");
        assertCorrupt(Arrays.copyOf(good, good.length + 3), "truncated or padded");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertCorrupt(magic, "bad magic");
        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        assertCorrupt(version, "version 99");
        assertCorrupt(new byte[10], "too short");
        byte[] nan = good.clone();
        int firstFloat = 8 + 12 + 16 + 2 + 4;  // rule "sign"
        ByteBuffer.wrap(nan).order(ByteOrder.LITTLE_ENDIAN).putFloat(firstFloat, Float.NaN);
        assertCorrupt(nan, "NaN");
    }

    private void assertCorrupt(byte[] bytes, String expected) throws IOException {
        Path f = dir.resolve("corrupt.state");
        Files.write(f, bytes);
        IOException e = assertThrows(IOException.class, () -> BiasStateFile.load(f));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("corrupt.state"), e.getMessage());
        assertArrayEquals(bytes, Files.readAllBytes(f), "a rejected file is left as it was");
    }

    @Test
    void saveRefusesWhatLoadWouldRejectAndWritesNothing() throws IOException {
        Path f = dir.resolve("bias.state");
        float[][] bias = {{0.1f, Float.NaN, 0.3f}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BiasStateFile.save(f, new BiasState(1, 10, BiasUpdateRule.SIGN, bias)));
        assertTrue(e.getMessage().contains("layer 0, expert 1 is NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> BiasStateFile.save(f, new BiasState(1, 10, BiasUpdateRule.SIGN, new float[][] {{Float.POSITIVE_INFINITY}})));
        assertThrows(IllegalArgumentException.class, () -> BiasStateFile.save(f, new BiasState(-1, 10, BiasUpdateRule.SIGN,
                new float[][] {{0f}})));
        assertThrows(IllegalArgumentException.class, () -> BiasStateFile.save(f, new BiasState(1, 10, BiasUpdateRule.SIGN,
                new float[0][])));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing written, no temporary file");
        }
    }

    /** A header that describes a small state at the start of a huge (sparse) file: rejected before reading it. */
    @Test
    void loadAllocatesNoMoreThanTheHeaderDescribes() throws IOException {
        Path f = dir.resolve("huge.state");
        BiasStateFile.save(f, new BiasState(1, 10, BiasUpdateRule.SIGN, new float[][] {{0.5f, -0.5f}}));
        long huge = 3L << 30;
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(huge);
        }
        IOException e = assertThrows(IOException.class, () -> BiasStateFile.load(f));
        assertTrue(e.getMessage().contains("size " + huge + " bytes, but its header describes 54"), e.getMessage());
    }

    @Test
    void theRuleIsOneOfTheKnownRules() throws IOException {
        Path f = dir.resolve("rule.state");
        BiasStateFile.save(f, new BiasState(2, 20, BiasUpdateRule.PROPORTIONAL, new float[][] {{0.25f}}));
        assertEquals(BiasUpdateRule.PROPORTIONAL, BiasStateFile.load(f).rule());
        // The same file with the rule "additive" (same length as "proportional" is not needed: rebuilt with its checksum).
        byte[] good = Files.readAllBytes(f);
        byte[] name = "additive".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(good.length - "proportional".length() + name.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(good, 0, 36).putShort((short) name.length).put(name).put(good, 38 + "proportional".length(), 4);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        Files.write(f, b.array());
        IOException e = assertThrows(IOException.class, () -> BiasStateFile.load(f));
        assertTrue(e.getMessage().contains("unknown bias update rule 'additive'"), e.getMessage());
    }
}
