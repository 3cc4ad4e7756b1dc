package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.io.Npy;
import dev.moe.io.NpyArray;

/** {@code moe eplb --loads}: every numeric .npy dtype docs/cli.md lets a command read (token counts are integers). */
class EplbLoadsCliTest {
    @TempDir
    Path dir;

    private static final int[] COUNTS = {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86, 20, 107, 104, 64, 19, 197, 187, 157,
        172, 86, 16, 27};

    private int[] plan(Path loads) throws IOException {
        Path out = dir.resolve("phy2log-" + loads.getFileName());
        MoeCliTest.Result r = MoeCliTest.cli("eplb", "--loads", loads.toString(), "--replicas", "16", "--groups", "4", "--nodes", "2",
                "--gpus", "8", "--out-phy2log", out.toString());
        assertEquals(0, r.code(), r.err());
        try (Arena arena = Arena.ofConfined()) {
            return Npy.read(out, arena).toIntArray();
        }
    }

    @Test
    void integerCountsPlanLikeTheSameFloatLoads() throws IOException {
        float[] f = new float[COUNTS.length];
        long[] l = new long[COUNTS.length];
        double[] d = new double[COUNTS.length];
        byte[] b = new byte[COUNTS.length];
        for (int i = 0; i < COUNTS.length; i++) {
            f[i] = COUNTS[i];
            l[i] = COUNTS[i];
            d[i] = COUNTS[i];
            b[i] = (byte) COUNTS[i];
        }
        Path f32 = dir.resolve("f32.npy");
        Npy.write(f32, Npy.ofFloats(f, 2, 12));
        int[] expected = plan(f32);
        for (NpyArray a : new NpyArray[] {Npy.ofInts(COUNTS, 2, 12), Npy.ofLongs(l, 2, 12), Npy.ofDoubles(d, 2, 12),
            Npy.ofBytes(b, 2, 12)}) {
            Path p = dir.resolve(a.dtype().typeName() + ".npy");
            Npy.write(p, a);
            assertArrayEquals(expected, plan(p), a.dtype().typeName());
        }
    }

    @Test
    void negativeCountsAndOtherShapesExitTwoWithoutOutput() throws IOException {
        int[] negative = COUNTS.clone();
        negative[5] = -1;
        Path neg = dir.resolve("neg.npy");
        Npy.write(neg, Npy.ofInts(negative, 2, 12));
        Path rank1 = dir.resolve("rank1.npy");
        Npy.write(rank1, Npy.ofLongs(new long[] {1, 2, 3, 4}, 4));
        for (Path loads : new Path[] {neg, rank1}) {
            Path out = dir.resolve("out.npy");
            MoeCliTest.Result r = MoeCliTest.cli("eplb", "--loads", loads.toString(), "--replicas", "16", "--groups", "4", "--nodes",
                    "2", "--gpus", "8", "--out-phy2log", out.toString());
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out));
        }
        assertTrue(MoeCliTest.cli("eplb", "--loads", rank1.toString(), "--replicas", "16", "--groups", "4", "--nodes", "2", "--gpus",
                "8", "--out-phy2log", dir.resolve("o.npy").toString()).err().contains("[L, N_log]"));
    }
}
