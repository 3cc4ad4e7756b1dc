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
import java.util.List;
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

    /**
     * Values no valid checkpoint holds are checkpoint errors (exit 2) naming the file and the tensor, found
     * when the layer is loaded: never accepted, never blamed on the input.
     */
    @Test
    void badValuesAreCheckpointErrorsNamingTheTensor() throws IOException {
        record Damage(String what, java.util.function.Consumer<MoeLayerWeights> apply, String tensor, String fragment) {}
        String p = "model.layers.0.mlp.";
        List<Damage> damages = List.of(
                new Damage("NaN scale", w -> w.w13().scales()[1] = Float.NaN, p + "experts.0.gate_proj.weight_scale_inv", "block 1 is NaN"),
                new Damage("inf scale", w -> w.w2().scales()[2] = Float.POSITIVE_INFINITY, p + "experts.1.down_proj.weight_scale_inv",
                        "block 0 is Infinity"),
                new Damage("negative scale", w -> w.w13().scales()[6] = -0.5f, p + "experts.1.up_proj.weight_scale_inv",
                        "block 0 is -0.5"),
                new Damage("NaN gate", w -> w.gate()[MoeLayerTest.H + 3] = Float.NaN, p + "gate.weight", "element 259 is NaN"),
                new Damage("NaN bias", w -> w.gateBias()[2] = Float.NaN, p + "gate.e_score_correction_bias", "element 2 is NaN"),
                new Damage("NaN code 0x7F", w -> w.w2().codes()[MoeLayerTest.I + 5] = 0x7F, p + "experts.0.down_proj.weight",
                        "element [1, 5] is the E4M3 NaN code 0x7f"),
                new Damage("NaN code 0xFF", w -> w.w13().codes()[MoeLayerTest.I * MoeLayerTest.H] = (byte) 0xFF,
                        p + "experts.0.up_proj.weight", "element [0, 0] is the E4M3 NaN code 0xff"));
        Path xin = dir.resolve("x.npy");
        Npy.write(xin, Npy.ofFloats(MoeLayerTest.gaussian(new SplittableRandom(2), 3 * MoeLayerTest.H, 1.0), 3, MoeLayerTest.H));
        for (Damage d : damages) {
            MoeLayerWeights w = MoeLayerTest.layer(31, false).weights();
            d.apply().accept(w);
            Path f = checkpoint(d.what().replace(' ', '-') + ".safetensors", w);
            try (Arena arena = Arena.ofConfined()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> MoeLayerCheckpoint.load(SafetensorsFile.open(f, arena), 0, MoeLayerTest.CONFIG), d.what());
                assertTrue(e.getMessage().startsWith("tensor '" + d.tensor() + "': ") && e.getMessage().contains(d.fragment()),
                        d.what() + ": " + e.getMessage());
            }
            String err = layerError(f, xin);
            assertTrue(err.startsWith("moe: --weights " + f + ": tensor '" + d.tensor() + "'"), d.what() + ": " + err);
            assertFalse(err.contains("--input"), err);
        }
    }

    @Test
    void malformedFilesAreCheckpointErrors() throws IOException {
        Path f = checkpoint("trailing.safetensors", MoeLayerTest.layer(33, false).weights());
        Files.write(f, new byte[] {0, 0, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        Path xin = dir.resolve("x.npy");
        Npy.write(xin, Npy.ofFloats(new float[2 * MoeLayerTest.H], 2, MoeLayerTest.H));
        String err = layerError(f, xin);
        assertTrue(err.startsWith("moe: --weights " + f + ": not a valid safetensors file: 4 trailing bytes after the last tensor"), err);
    }

    /** Layer 0 of {@code w} written as a checkpoint named {@code name}. */
    private Path checkpoint(String name, MoeLayerWeights w) throws IOException {
        Path f = dir.resolve(name);
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, 0, w, false);
        out.write(f);
        return f;
    }

    /** The one-line error of {@code moe layer} on this checkpoint (exit 2), with nothing written. */
    private String layerError(Path checkpoint, Path input) {
        Path y = dir.resolve("y.npy");
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = MoeCli.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), "layer", "--weights",
                checkpoint.toString(), "--layer", "0", "--input", input.toString(), "--out", y.toString(), "--backend", "java",
                "--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "2", "--group-score", "max");
        assertEquals(2, code, out + "\n" + err);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertFalse(Files.exists(y));
        return err.toString().strip();
    }

    private static int run(String... args) {
        java.io.StringWriter sink = new java.io.StringWriter();
        return MoeCli.run(new java.io.PrintWriter(sink, true), new java.io.PrintWriter(sink, true), args);
    }
}
