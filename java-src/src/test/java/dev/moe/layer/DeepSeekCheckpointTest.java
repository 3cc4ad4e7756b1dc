package dev.moe.layer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.math.Bf16;
import dev.moe.backend.Backend;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.ScoreFunction;
import dev.moe.safetensors.SafetensorsDType;
import dev.moe.safetensors.SafetensorsFile;
import dev.moe.safetensors.SafetensorsTensor;
import dev.moe.safetensors.SafetensorsWriter;

/** Hugging Face checkpoint directories: config.json, the shard index and its shards, read as DeepSeek ships them. */
class DeepSeekCheckpointTest {
    @TempDir
    Path dir;

    /** noaux_tc can describe it: top-2-sum group score. H = 136 leaves a partial 128-column block. */
    static final RoutingConfig CONFIG = RoutingConfig.builder().experts(8).groups(4).topkGroups(2).topk(4).groupTopJ(2).build();
    static final int H = 136;
    static final int I = 128;
    static final int LAYER = 5;

    /** config.json as DeepSeek-V3 writes it (keys this library does not use included), for CONFIG, H, I. */
    static String configJson(int sharedExperts) {
        return """
                {
                  "architectures": ["DeepseekV3ForCausalLM"],
                  "first_k_dense_replace": 3,
                  "hidden_act": "silu",
                  "hidden_size": %d,
                  "intermediate_size": 18432,
                  "kv_lora_rank": 512,
                  "model_type": "deepseek_v3",
                  "moe_intermediate_size": %d,
                  "moe_layer_freq": 1,
                  "n_group": 4,
                  "n_routed_experts": 8,
                  "n_shared_experts": %d,
                  "norm_topk_prob": true,
                  "num_experts_per_tok": 4,
                  "num_hidden_layers": 6,
                  "num_nextn_predict_layers": 1,
                  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                          "weight_block_size": [128, 128]},
                  "routed_scaling_factor": 2.5,
                  "scoring_func": "sigmoid",
                  "seq_aux": true,
                  "topk_group": 2,
                  "topk_method": "noaux_tc",
                  "torch_dtype": "bfloat16",
                  "vocab_size": 129280
                }
                """.formatted(H, I, sharedExperts);
    }

    static MoeLayerWeights weights(boolean shared) {
        return MoeLayerWeights.synthetic(CONFIG, H, I, shared, 42);
    }

    /** The layer in one safetensors file, written by {@link MoeLayerCheckpoint#write}. */
    static Path singleFile(Path dir, MoeLayerWeights w) throws IOException {
        Path f = dir.resolve("single.safetensors");
        SafetensorsWriter out = new SafetensorsWriter();
        MoeLayerCheckpoint.write(out, LAYER, w, true);
        out.write(f);
        return f;
    }

    /**
     * A Hugging Face directory made by hand from the single file: its tensors dealt round-robin over
     * {@code shards} shards, the index written with Jackson, config.json as DeepSeek writes it.
     */
    static Path hfDirectory(Path root, MoeLayerWeights w, int shards) throws IOException {
        Path single = singleFile(root, w);
        Path hf = Files.createDirectory(root.resolve("hf"));
        List<SafetensorsWriter> parts = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            parts.add(new SafetensorsWriter());
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile file = SafetensorsFile.open(single, arena);
            int i = 0;
            for (String name : file.names()) {
                SafetensorsTensor t = file.tensor(name);
                parts.get(i % shards).add(name, t.dtype(), t.toByteArray(), t.shape());
                weightMap.put(name, shardName(i % shards, shards));
                i++;
            }
        }
        for (int i = 0; i < shards; i++) {
            parts.get(i).write(hf.resolve(shardName(i, shards)));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", 12345));
        index.put("weight_map", weightMap);
        Files.writeString(hf.resolve("model.safetensors.index.json"), new ObjectMapper().writeValueAsString(index));
        Files.writeString(hf.resolve("config.json"), configJson(w.hasSharedExpert() ? 1 : 0));
        return hf;
    }

    static String shardName(int i, int n) {
        return String.format("model-%05d-of-%05d.safetensors", i + 1, n);
    }

    static void assertSameWeights(MoeLayerWeights a, MoeLayerWeights b) {
        assertEquals(a.config(), b.config());
        assertArrayEquals(a.gate(), b.gate());
        assertArrayEquals(a.gateBias(), b.gateBias());
        assertArrayEquals(a.w13().codes(), b.w13().codes());
        assertArrayEquals(a.w13().scales(), b.w13().scales());
        assertArrayEquals(a.w2().codes(), b.w2().codes());
        assertArrayEquals(a.w2().scales(), b.w2().scales());
        assertEquals(a.hasSharedExpert(), b.hasSharedExpert());
        if (a.hasSharedExpert()) {
            assertArrayEquals(a.sharedW13().codes(), b.sharedW13().codes());
            assertArrayEquals(a.sharedW2().scales(), b.sharedW2().scales());
        }
    }

    @Test
    void aShardedDirectoryReadsLikeTheSingleFile() throws IOException {
        MoeLayerWeights w = weights(true);
        Path hf = hfDirectory(dir, w, 3);
        try (Arena arena = Arena.ofConfined()) {
            MoeLayerWeights fromFile = MoeLayerCheckpoint.load(SafetensorsFile.open(dir.resolve("single.safetensors"), arena), LAYER, CONFIG);
            DeepSeekCheckpoint ckpt = DeepSeekCheckpoint.open(hf, arena);
            assertEquals(CONFIG, ckpt.config().routing(), "routing read from config.json");
            MoeLayerWeights fromDir = ckpt.loadLayer(LAYER, ckpt.config().routing());
            assertSameWeights(fromFile, fromDir);
            int tokens = 7;
            float[] x = MoeLayerTest.gaussian(new SplittableRandom(3), tokens * H, 1.0);
            assertArrayEquals(MoeLayer.create(fromFile, Backend.JAVA).forward(x, tokens), MoeLayer.create(fromDir, Backend.JAVA).forward(x, tokens));
        }
    }

    @Test
    void aWrittenDirectoryHasBalancedShardsAndReadsBack() throws IOException {
        MoeLayerWeights w = weights(false);
        DeepSeekCheckpoint.write(dir, LAYER, w, 4, true);
        try (Arena arena = Arena.ofConfined()) {
            DeepSeekCheckpoint ckpt = DeepSeekCheckpoint.open(dir, arena);
            MoeLayerWeights back = ckpt.loadLayer(LAYER, ckpt.config().routing());
            MoeLayerWeights expected = MoeLayerCheckpoint.load(SafetensorsFile.open(singleFile(dir, w), arena), LAYER, CONFIG);
            assertSameWeights(expected, back);
            for (int i = 0; i < 4; i++) {
                long size = Files.size(dir.resolve(shardName(i, 4)));
                assertTrue(size > 0.5 * Files.size(dir.resolve("single.safetensors")) / 4, "shard " + i + ": " + size + " bytes");
            }
        }
    }

    @Test
    void realDeepSeekConfigsGiveTheirRouting() throws IOException {
        Path v3 = dir.resolve("v3.json");
        Files.writeString(v3, configJson(1).replace("\"hidden_size\": 136", "\"hidden_size\": 7168").replace("\"moe_intermediate_size\": 128",
                "\"moe_intermediate_size\": 2048").replace("\"n_group\": 4", "\"n_group\": 8").replace("\"n_routed_experts\": 8",
                "\"n_routed_experts\": 256").replace("\"num_experts_per_tok\": 4", "\"num_experts_per_tok\": 8")
                .replace("\"topk_group\": 2", "\"topk_group\": 4").replace("\"num_hidden_layers\": 6", "\"num_hidden_layers\": 61"));
        DeepSeekConfig c3 = DeepSeekConfig.read(v3);
        assertEquals(new DeepSeekConfig(RoutingConfig.deepseekV3(), 7168, 2048, 1, 3, 1, 62), c3);
        Path v2 = dir.resolve("v2.json");
        Files.writeString(v2, """
                {"architectures": ["DeepseekV2ForCausalLM"], "first_k_dense_replace": 1, "hidden_size": 5120,
                 "model_type": "deepseek_v2", "moe_intermediate_size": 1536, "moe_layer_freq": 1, "n_group": 8,
                 "n_routed_experts": 160, "n_shared_experts": 2, "norm_topk_prob": false, "num_experts_per_tok": 6,
                 "num_hidden_layers": 60, "routed_scaling_factor": 16.0, "scoring_func": "softmax", "seq_aux": true,
                 "topk_group": 3, "topk_method": "group_limited_greedy", "torch_dtype": "bfloat16"}
                """);
        assertEquals(new DeepSeekConfig(RoutingConfig.deepseekV2(), 5120, 1536, 2, 1, 1, 60), DeepSeekConfig.read(v2));
        Path lite = dir.resolve("v2-lite.json");
        Files.writeString(lite, """
                {"first_k_dense_replace": 1, "hidden_size": 2048, "moe_intermediate_size": 1408, "n_group": 1,
                 "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": false, "num_experts_per_tok": 6,
                 "num_hidden_layers": 27, "routed_scaling_factor": 1.0, "scoring_func": "softmax", "topk_group": 1,
                 "topk_method": "greedy"}
                """);
        RoutingConfig r = DeepSeekConfig.read(lite).routing();
        assertEquals(List.of(64, 1, 1, 6), List.of(r.numExperts(), r.numGroups(), r.topkGroups(), r.topk()));
        assertEquals(ScoreFunction.SOFTMAX, r.scoreFunction());
        assertEquals(1.0f, r.routeScale());
        // Written back, the config reads as the same.
        Path again = dir.resolve("again.json");
        Files.writeString(again, c3.toJson());
        assertEquals(c3, DeepSeekConfig.read(again));
    }

    @Test
    void unquantisedExpertWeightsAreQuantisedAsTheyAreRead() throws IOException {
        SplittableRandom rnd = new SplittableRandom(9);
        SafetensorsWriter out = new SafetensorsWriter();
        String p = "model.layers.0.mlp.";
        out.addBf16(p + "gate.weight", MoeLayerTest.gaussian(rnd, 8 * H, 0.1), 8, H);
        List<float[]> up = new ArrayList<>();
        for (int e = 0; e < 8; e++) {
            for (String m : new String[] {"gate_proj", "up_proj"}) {
                float[] v = MoeLayerTest.gaussian(rnd, I * H, 0.05);
                out.addBf16(p + "experts." + e + "." + m + ".weight", v, I, H);
                up.add(v);
            }
            out.addBf16(p + "experts." + e + ".down_proj.weight", MoeLayerTest.gaussian(rnd, H * I, 0.05), H, I);
        }
        Path f = dir.resolve("bf16.safetensors");
        out.write(f);
        try (Arena arena = Arena.ofConfined()) {
            MoeLayerWeights w = MoeLayerCheckpoint.load(SafetensorsFile.open(f, arena), 0, CONFIG);
            float[] rounded = up.get(3).clone();  // expert 1's up_proj, as stored: BF16
            for (int i = 0; i < rounded.length; i++) {
                rounded[i] = Bf16.decode(Bf16.encode(rounded[i]));
            }
            QuantizedTensor q = BlockQuantizer.quantize(rounded, I, H, Fp8Block.TILE_128X128, false);
            byte[] codes = java.util.Arrays.copyOfRange(w.w13().codes(), (2 * 1 + 1) * I * H, (2 * 1 + 2) * I * H);
            assertArrayEquals(q.codes(), codes);
        }
    }

    /** Corrupts a copy of the directory and expects an IllegalArgumentException naming {@code culprit}. */
    private void assertRejected(String what, UnaryOperator<Path> corrupt, String culprit, String... mentions) throws IOException {
        Path root = Files.createDirectory(dir.resolve(what.replace(' ', '-')));
        Path hf = hfDirectory(root, weights(true), 3);
        corrupt.apply(hf);
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                DeepSeekCheckpoint ckpt = DeepSeekCheckpoint.open(hf, arena);
                ckpt.loadLayer(LAYER, ckpt.config().routing());
            }, what);
            assertTrue(e.getMessage().contains(hf.resolve(culprit).toString()), what + ": " + e.getMessage());
            for (String m : mentions) {
                assertTrue(e.getMessage().contains(m), what + ": " + e.getMessage());
            }
        }
    }

    private static Path edit(Path file, String from, String to) {
        try {
            String s = Files.readString(file);
            assertTrue(s.contains(from), from);
            Files.writeString(file, s.replace(from, to));
            return file;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void corruptIndexesAndConfigsNameTheFileAtFault() throws IOException {
        String index = "model.safetensors.index.json";
        String bias = "model.layers.5.mlp.gate.e_score_correction_bias";
        assertRejected("missing shard", hf -> {
            try {
                Files.delete(hf.resolve(shardName(1, 3)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return hf;
        }, index, shardName(1, 3), "missing");
        // The bias is tensor 1, dealt to shard 2; the index says shard 1.
        assertRejected("tensor in the wrong shard", hf -> edit(hf.resolve(index), "\"" + bias + "\":\"" + shardName(1, 3) + "\"",
                "\"" + bias + "\":\"" + shardName(0, 3) + "\""), index, bias, shardName(0, 3));
        String up = "model.layers.5.mlp.experts.3.up_proj.weight";
        assertRejected("tensor missing from the index", hf -> {
            try {
                Files.writeString(hf.resolve(index), Files.readString(hf.resolve(index)).replaceFirst("\"" + up + "\":\"[^\"]*\",", ""));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return hf;
        }, index, up);
        assertRejected("index not JSON", hf -> edit(hf.resolve(index), "{\"metadata\"", "{{\"metadata\""), index, "JSON");
        assertRejected("index without weight_map", hf -> edit(hf.resolve(index), "\"weight_map\"", "\"weights\""), index, "weight_map");
        assertRejected("shard outside the directory", hf -> edit(hf.resolve(index), "\"" + bias + "\":\"" + shardName(1, 3) + "\"",
                "\"" + bias + "\":\"../" + shardName(1, 3) + "\""), index, "not a file name");
        assertRejected("config key missing", hf -> edit(hf.resolve("config.json"), "\"n_routed_experts\": 8,", ""), "config.json",
                "n_routed_experts");
        assertRejected("config key invalid", hf -> edit(hf.resolve("config.json"), "\"topk_method\": \"noaux_tc\"",
                "\"topk_method\": \"magic\""), "config.json", "topk_method");
        assertRejected("config duplicate key", hf -> edit(hf.resolve("config.json"), "\"n_group\": 4,", "\"n_group\": 4, \"n_group\": 2,"),
                "config.json", "n_group");
        assertRejected("config sizes disagree", hf -> edit(hf.resolve("config.json"), "\"moe_intermediate_size\": 128",
                "\"moe_intermediate_size\": 256"), "config.json", "moe_intermediate_size");
        assertRejected("config routing invalid", hf -> edit(hf.resolve("config.json"), "\"topk_group\": 2", "\"topk_group\": 5"),
                "config.json", "routing");
        assertRejected("dense layer", hf -> edit(hf.resolve("config.json"), "\"first_k_dense_replace\": 3", "\"first_k_dense_replace\": 6"),
                "config.json", "dense");
        assertRejected("no config", hf -> {
            try {
                Files.delete(hf.resolve("config.json"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return hf;
        }, "", "config.json");
        assertRejected("no index", hf -> {
            try {
                Files.delete(hf.resolve(index));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return hf;
        }, "", index, "model.safetensors");
    }

    @Test
    void anUnshardedDirectoryHoldsModelSafetensors() throws IOException {
        MoeLayerWeights w = weights(false);
        Files.copy(singleFile(dir, w), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), configJson(0), StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            DeepSeekCheckpoint ckpt = DeepSeekCheckpoint.open(dir, arena);
            assertSameWeights(MoeLayerCheckpoint.load(SafetensorsFile.open(dir.resolve("single.safetensors"), arena), LAYER, CONFIG),
                    ckpt.loadLayer(LAYER, CONFIG));
            assertEquals(SafetensorsDType.BF16, ckpt.tensors().tensor("model.layers.5.mlp.gate.weight").dtype());
        }
    }
}
