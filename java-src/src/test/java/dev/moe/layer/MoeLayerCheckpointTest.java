package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.backend.Backend;
import dev.moe.cli.MoeCli;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.safetensors.SafetensorsFile;
import dev.moe.safetensors.SafetensorsWriter;

class MoeLayerCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void layerWrittenInDeepSeekLayoutLoadsBackAndRunsTheSame() throws IOException {
        MoeLayerWeights w = MoeLayerTest.layer(11, true).weights();
        Path f = dir.resolve("layer.safetensors");
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, 3, w, false);
        out.write(f);
        int tokens = 19;
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(12), tokens * MoeLayerTest.H, 1.0);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile file = SafetensorsFile.open(f, arena);
            assertTrue(file.contains("model.layers.3.mlp.experts.7.down_proj.weight_scale_inv"));
            assertTrue(file.contains("model.layers.3.mlp.shared_experts.up_proj.weight"));
            MoeLayerWeights back = MoeLayerCheckpoint.load(file, 3, MoeLayerTest.CONFIG);
            assertArrayEquals(w.w13().codes(), back.w13().codes());
            assertArrayEquals(w.w13().scales(), back.w13().scales());
            assertArrayEquals(w.w2().codes(), back.w2().codes());
            assertArrayEquals(w.sharedW13().codes(), back.sharedW13().codes());
            assertArrayEquals(w.gateBias(), back.gateBias());
            assertArrayEquals(MoeLayer.create(w, Backend.JAVA).forward(x, tokens), MoeLayer.create(back, Backend.JAVA).forward(x, tokens));
            assertThrows(IllegalArgumentException.class, () -> MoeLayerCheckpoint.load(file, 4, MoeLayerTest.CONFIG));
            assertThrows(IllegalArgumentException.class, () -> MoeLayerCheckpoint.load(file, 3,
                    MoeLayerTest.CONFIG.toBuilder().experts(16).build()));
        }
    }

    @Test
    void bf16RouterWeightsAreWidenedExactly() throws IOException {
        MoeLayerWeights w = MoeLayerTest.layer(13, false).weights();
        Path f = dir.resolve("bf16.safetensors");
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, 0, w, true);
        out.write(f);
        try (Arena arena = Arena.ofConfined()) {
            MoeLayerWeights back = MoeLayerCheckpoint.load(SafetensorsFile.open(f, arena), 0, MoeLayerTest.CONFIG);
            assertFalse(back.hasSharedExpert());
            for (int i = 0; i < w.gate().length; i++) {
                float g = back.gate()[i];
                assertEquals(0, Float.floatToRawIntBits(g) & 0xFFFF, "BF16 has 16 significant bits");
                assertTrue(Math.abs(g - w.gate()[i]) <= Math.abs(w.gate()[i]) * 0x1p-8f, "rounded to BF16 at " + i);
            }
        }
    }

    @Test
    void layerCommandRunsACheckpoint() throws IOException {
        MoeLayerWeights w = MoeLayerTest.layer(17, true).weights();
        Path f = dir.resolve("ckpt.safetensors");
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, 5, w, false);
        out.write(f);
        int tokens = 9;
        float[] x = MoeLayerTest.gaussian(new SplittableRandom(18), tokens * MoeLayerTest.H, 1.0);
        Path xin = dir.resolve("x.npy");
        Npy.write(xin, Npy.ofFloats(x, tokens, MoeLayerTest.H));
        Path y = dir.resolve("y.npy");
        Path ids = dir.resolve("ids.npy");
        // MoeLayerTest.CONFIG: J = K/M = 1, i.e. a group's score is its best expert ("max").
        String[] config = {"--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "2", "--group-score", "max"};
        int code = run("layer", "--weights", f.toString(), "--layer", "5", "--input", xin.toString(), "--out", y.toString(),
                "--out-ids", ids.toString(), "--backend", "java", config[0], config[1], config[2], config[3], config[4], config[5],
                config[6], config[7], config[8], config[9]);
        assertEquals(0, code);
        try (Arena arena = Arena.ofConfined()) {
            NpyArray got = Npy.readFloat32(y, arena);
            assertArrayEquals(MoeLayer.create(w, Backend.JAVA).forward(x, tokens), got.toFloatArray());
        }
        assertTrue(Files.exists(ids));
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {9, 0, 0, 0, 0, 0, 0, 0, '{'});
        Path y2 = dir.resolve("y2.npy");
        assertEquals(2, run("layer", "--weights", bad.toString(), "--layer", "5", "--input", xin.toString(), "--out", y2.toString(),
                config[0], config[1], config[2], config[3], config[4], config[5], config[6], config[7], config[8], config[9]));
        assertFalse(Files.exists(y2));
        Path wrongH = dir.resolve("wrong.npy");
        Npy.write(wrongH, Npy.ofFloats(new float[4 * 3], 4, 3));
        assertEquals(2, run("layer", "--weights", f.toString(), "--layer", "5", "--input", wrongH.toString(), "--out", y2.toString(),
                config[0], config[1], config[2], config[3], config[4], config[5], config[6], config[7], config[8], config[9]));
        assertFalse(Files.exists(y2));
    }

    private static int run(String... args) {
        java.io.StringWriter sink = new java.io.StringWriter();
        return MoeCli.run(new java.io.PrintWriter(sink, true), new java.io.PrintWriter(sink, true), args);
    }
}
