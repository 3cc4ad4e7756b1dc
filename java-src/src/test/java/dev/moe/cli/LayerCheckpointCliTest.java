package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.io.Npy;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.backend.Backend;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsFile;

/** {@code moe layer init} writes checkpoints that {@code moe layer} runs, as a file or as a Hugging Face directory. */
class LayerCheckpointCliTest {
    @TempDir
    Path dir;

    private static final String[] ROUTING = {"--experts", "8", "--groups", "4", "--topk-groups", "2", "--topk", "4"};
    private static final Pattern RUN_IT = Pattern.compile("run it: \\./moe (layer .*)\\n");

    private static String[] args(String[] head, String... tail) {
        List<String> a = new ArrayList<>(List.of(head));
        a.addAll(List.of(tail));
        return a.toArray(String[]::new);
    }

    private MoeCliTest.Result init(String out, String... extra) {
        String[] head = {"layer", "init", "--out", dir.resolve(out).toString(), "--hidden", "136", "--shared", "--layer", "2",
            "--seed", "5", "--sample-input", dir.resolve("x.npy").toString(), "--tokens", "9"};
        return MoeCliTest.cli(args(args(head, ROUTING), extra));
    }

    private float[] read(Path p) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return Npy.readFloat32(p, arena).toFloatArray();
        }
    }

    @Test
    void initWritesWhatLayerRunsAndPrintsTheCommand() throws IOException {
        MoeCliTest.Result r = init("layer.safetensors", "--gate-dtype", "f32");  // the router weight exactly as generated
        assertEquals(0, r.code(), r.err());
        Matcher m = RUN_IT.matcher(r.out());
        assertTrue(m.find(), r.out());
        Path y = dir.resolve("y.npy");
        MoeCliTest.Result run = MoeCliTest.cli(args(m.group(1).replace("Y.npy", y.toString()).split(" "), "--backend", "java"));
        assertEquals(0, run.code(), run.err());
        RoutingConfig config = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(4).build();
        MoeLayerWeights w = MoeLayerWeights.synthetic(config, 136, 128, true, 5);
        float[] x = read(dir.resolve("x.npy"));
        assertEquals(9 * 136, x.length);
        assertArrayEquals(MoeLayer.create(w, Backend.JAVA).forward(x, 9), read(y));
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("layer.safetensors"), arena);
            for (String name : List.of("gate.weight", "gate.e_score_correction_bias", "experts.7.gate_proj.weight",
                    "experts.7.up_proj.weight_scale_inv", "experts.0.down_proj.weight", "shared_experts.down_proj.weight_scale_inv")) {
                assertTrue(f.contains("model.layers.2.mlp." + name), name);
            }
        }
    }

    @Test
    void aShardedDirectoryRunsLikeTheSingleFileAndFlagsOverrideItsConfig() throws IOException {
        assertEquals(0, init("layer.safetensors").code());
        MoeCliTest.Result r = init("hf", "--shards", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("hf/model-00003-of-00003.safetensors")) && Files.exists(dir.resolve("hf/config.json")));
        String x = dir.resolve("x.npy").toString();
        Path yFile = dir.resolve("y-file.npy");
        Path yDir = dir.resolve("y-dir.npy");
        Path idsFile = dir.resolve("ids-file.npy");
        Path idsDir = dir.resolve("ids-dir.npy");
        assertEquals(0, MoeCliTest.cli(args(new String[] {"layer", "--weights", dir.resolve("layer.safetensors").toString(), "--layer", "2",
            "--input", x, "--out", yFile.toString(), "--out-ids", idsFile.toString(), "--backend", "cpu"}, ROUTING)).code());
        MoeCliTest.Result fromDir = MoeCliTest.cli("layer", "--weights", dir.resolve("hf").toString(), "--layer", "2", "--input", x, "--out",
                yDir.toString(), "--out-ids", idsDir.toString(), "--backend", "cpu");
        assertEquals(0, fromDir.code(), fromDir.err());
        assertArrayEquals(read(yFile), read(yDir));
        // --topk overrides config.json's num_experts_per_tok.
        Path ids2 = dir.resolve("ids2.npy");
        MoeCliTest.Result k2 = MoeCliTest.cli("layer", "--weights", dir.resolve("hf").toString(), "--layer", "2", "--input", x, "--out",
                dir.resolve("y2.npy").toString(), "--out-ids", ids2.toString(), "--topk", "2", "--backend", "cpu");
        assertEquals(0, k2.code(), k2.err());
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new long[] {9, 4}, Npy.read(idsDir, arena).shape());
            assertArrayEquals(new long[] {9, 2}, Npy.read(ids2, arena).shape());
        }
    }

    @Test
    void badDirectoriesAndFlagsExitTwoNamingTheProblem() throws IOException {
        assertEquals(0, init("hf", "--shards", "2").code());
        String x = dir.resolve("x.npy").toString();
        Path y = dir.resolve("y.npy");
        Files.delete(dir.resolve("hf/model-00002-of-00002.safetensors"));
        MoeCliTest.Result missing = MoeCliTest.cli("layer", "--weights", dir.resolve("hf").toString(), "--layer", "2", "--input", x, "--out",
                y.toString(), "--backend", "java");
        assertEquals(2, missing.code());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertTrue(missing.err().contains(dir.resolve("hf/model.safetensors.index.json").toString())
                && missing.err().contains("model-00002-of-00002.safetensors"), missing.err());
        assertFalse(Files.exists(y));
        // A tensor the index puts in the wrong shard; config.json without a key: each names its file.
        assertEquals(0, init("hf2", "--shards", "2").code());
        Path index = dir.resolve("hf2/model.safetensors.index.json");
        String gate = "\"model.layers.2.mlp.gate.weight\" : \"model-00001-of-00002.safetensors\"";
        assertTrue(Files.readString(index).contains(gate));
        Files.writeString(index, Files.readString(index).replace(gate, gate.replace("00001-of", "00002-of")));
        Path config = dir.resolve("hf2/config.json");
        for (Path culprit : List.of(index, config)) {
            MoeCliTest.Result bad = MoeCliTest.cli("layer", "--weights", dir.resolve("hf2").toString(), "--layer", "2", "--input", x,
                    "--out", y.toString(), "--backend", "java");
            assertEquals(2, bad.code(), bad.err());
            assertTrue(bad.err().contains(culprit.toString()), bad.err());
            assertFalse(Files.exists(y));
            Files.writeString(index, Files.readString(index).replace(gate.replace("00001-of", "00002-of"), gate));
            Files.writeString(config, Files.readString(config).replace("\"n_routed_experts\" : 8,", ""));
        }
        MoeCliTest.Result preset = MoeCliTest.cli("layer", "--weights", dir.resolve("hf").toString(), "--preset", "deepseek-v2", "--layer",
                "2", "--input", x, "--out", y.toString());
        assertEquals(2, preset.code());
        assertTrue(preset.err().contains("config.json"), preset.err());
        MoeCliTest.Result noWeights = MoeCliTest.cli("layer", "--layer", "2", "--input", x, "--out", y.toString());
        assertEquals(2, noWeights.code());
        assertTrue(noWeights.err().contains("--weights"), noWeights.err());
        // init: a non-empty directory is refused and left alone; a checkpoint too large to build is refused up front.
        MoeCliTest.Result notEmpty = init("hf", "--shards", "2");
        assertEquals(2, notEmpty.code());
        assertTrue(Files.exists(dir.resolve("hf/model-00001-of-00002.safetensors")));
        MoeCliTest.Result huge = MoeCliTest.cli("layer", "init", "--out", dir.resolve("big.safetensors").toString(), "--hidden", "7168",
                "--intermediate", "2048");
        assertEquals(2, huge.code());
        assertTrue(huge.err().contains("GiB"), huge.err());
        assertFalse(Files.exists(dir.resolve("big.safetensors")));
        assertEquals(2, MoeCliTest.cli("layer", "init", "--out", dir.resolve("l.safetensors").toString(), "--intermediate", "100").code());
    }
}
