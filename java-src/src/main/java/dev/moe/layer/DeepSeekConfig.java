package dev.moe.layer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.moe.io.JsonFiles;
import dev.moe.routing.GroupScore;
import dev.moe.routing.InvalidConfigException;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.ScoreFunction;

/**
 * What this library reads from a DeepSeek-V2/V3 Hugging Face {@code config.json}: the routing and the
 * MoE layers' sizes and positions. Keys (all required unless marked):
 * <pre>
 * n_routed_experts, num_experts_per_tok          N, K
 * n_group, topk_group                             G, M
 * topk_method       noaux_tc (V3: group score = sum of the top-2 biased scores) |
 *                   group_limited_greedy (V2: group max) | greedy (no group limit: M = G)
 * scoring_func      sigmoid | softmax
 * norm_topk_prob, routed_scaling_factor          renormalise the K weights; ρ
 * hidden_size, moe_intermediate_size              H, I
 * n_shared_experts          (optional, 0)        shared expert width = n_shared_experts × I
 * first_k_dense_replace     (optional, 0)        layers below it are dense
 * moe_layer_freq            (optional, 1)        layer L is MoE iff L ≥ first_k_dense_replace and L % freq == 0
 * num_hidden_layers         (optional)           + num_nextn_predict_layers (optional, 0): layers that exist
 * quantization_config       (optional)           if present: fmt e4m3, weight_block_size [128, 128]
 * </pre>
 * Other keys are ignored.
 *
 * @param routing            the routing configuration
 * @param hidden             H, hidden_size
 * @param intermediate       I, moe_intermediate_size
 * @param sharedExperts      n_shared_experts (0: none)
 * @param firstDenseLayers   first_k_dense_replace
 * @param moeLayerFreq       moe_layer_freq
 * @param layers             num_hidden_layers + num_nextn_predict_layers, or 0 if not given
 */
public record DeepSeekConfig(RoutingConfig routing, int hidden, int intermediate, int sharedExperts, int firstDenseLayers,
                             int moeLayerFreq, int layers) {
    /** The file name in a checkpoint directory. */
    public static final String FILE = "config.json";
    private static final long MAX_BYTES = 1 << 20;

    /**
     * Reads {@code config.json}.
     *
     * @param file the file
     * @return the configuration
     * @throws IllegalArgumentException naming the file and the key if a required key is missing or a
     *         value is invalid (including a routing configuration the spec rejects)
     * @throws IOException if the file cannot be read
     */
    public static DeepSeekConfig read(Path file) throws IOException {
        Keys k = new Keys(file, JsonFiles.readObject(file, MAX_BYTES));
        int n = k.positive("n_routed_experts");
        int topk = k.positive("num_experts_per_tok");
        int groups = k.positive("n_group");
        int topkGroups = k.positive("topk_group");
        String method = k.text("topk_method");
        String scoring = k.text("scoring_func");
        RoutingConfig.Builder b = RoutingConfig.builder().experts(n).topk(topk).normalize(k.bool("norm_topk_prob"))
                .routeScale((float) k.number("routed_scaling_factor"));
        switch (scoring) {
            case "sigmoid" -> b.scoreFunction(ScoreFunction.SIGMOID);
            case "softmax" -> b.scoreFunction(ScoreFunction.SOFTMAX);
            default -> throw k.invalid("scoring_func", "sigmoid or softmax");
        }
        switch (method) {
            case "noaux_tc" -> b.groups(groups).topkGroups(topkGroups).groupScore(GroupScore.TOP_J_SUM).groupTopJ(2);
            case "group_limited_greedy" -> b.groups(groups).topkGroups(topkGroups).groupScore(GroupScore.MAX);
            case "greedy" -> {  // no group limit: M = G
                int g = n % groups == 0 ? groups : 1;
                b.groups(g).topkGroups(g).groupScore(GroupScore.MAX);
            }
            default -> throw k.invalid("topk_method", "noaux_tc, group_limited_greedy or greedy");
        }
        RoutingConfig routing;
        try {
            routing = b.build();
        } catch (InvalidConfigException e) {
            throw new IllegalArgumentException(file + ": the routing it describes is invalid: " + e.getMessage(), e);
        }
        JsonNode q = k.root.path("quantization_config");
        if (q.isObject() && (!q.path("fmt").asText("e4m3").equals("e4m3")
                || !q.path("weight_block_size").toString().replace(" ", "").equals("[128,128]"))) {
            throw new IllegalArgumentException(file + ": quantization_config " + q + " is not FP8 e4m3 in 128x128 blocks, the only "
                    + "FP8 layout this library reads");
        }
        int layers = k.root.has("num_hidden_layers") ? k.positive("num_hidden_layers") + k.optional("num_nextn_predict_layers", 0) : 0;
        return new DeepSeekConfig(routing, k.positive("hidden_size"), k.positive("moe_intermediate_size"),
                k.optional("n_shared_experts", 0), k.optional("first_k_dense_replace", 0), Math.max(1, k.optional("moe_layer_freq", 1)),
                layers);
    }

    /**
     * Checks that {@code layer} is an MoE layer of this model.
     *
     * @param layer the layer index
     * @param file  the config file, for the message
     * @throws IllegalArgumentException if the model has no such layer or it is a dense one
     */
    public void requireMoeLayer(int layer, Path file) {
        if (layer < 0 || (layers > 0 && layer >= layers)) {
            throw new IllegalArgumentException("layer " + layer + " does not exist: " + file + " gives " + layers + " layers");
        }
        if (layer < firstDenseLayers || layer % moeLayerFreq != 0) {
            throw new IllegalArgumentException("layer " + layer + " is a dense layer, not an MoE layer (" + file
                    + ": first_k_dense_replace " + firstDenseLayers + ", moe_layer_freq " + moeLayerFreq + ")");
        }
    }

    /**
     * Checks that weights read from the checkpoint have the sizes this configuration gives.
     *
     * @param w    the weights
     * @param file the config file, for the message
     * @throws IllegalArgumentException naming the file and the key that disagrees with the tensors
     */
    public void requireSizes(MoeLayerWeights w, Path file) {
        int shared = w.hasSharedExpert() ? w.sharedW2().cols() : 0;
        if (w.hidden() != hidden || w.intermediate() != intermediate || shared != sharedExperts * intermediate) {
            throw new IllegalArgumentException(file + ": hidden_size " + hidden + ", moe_intermediate_size " + intermediate
                    + ", n_shared_experts " + sharedExperts + " disagree with the tensors (H " + w.hidden() + ", I " + w.intermediate()
                    + ", shared expert width " + shared + ")");
        }
    }

    /**
     * This configuration as a {@code config.json} a DeepSeek model would ship (model_type
     * deepseek_v3 for sigmoid scoring, else deepseek_v2), with only the keys {@link #read} uses and
     * the FP8 quantisation config.
     *
     * @return the JSON text
     */
    public String toJson() {
        RoutingConfig r = routing;
        boolean v3 = r.scoreFunction() == ScoreFunction.SIGMOID;
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model_type", v3 ? "deepseek_v3" : "deepseek_v2");
        o.put("hidden_size", hidden).put("moe_intermediate_size", intermediate);
        o.put("n_routed_experts", r.numExperts()).put("num_experts_per_tok", r.topk()).put("n_shared_experts", sharedExperts);
        String method;
        if (r.topkGroups() == r.numGroups()) {
            method = "greedy";
        } else if (r.groupScore() == GroupScore.MAX) {
            method = "group_limited_greedy";
        } else if (r.groupTopJ() == 2) {
            method = "noaux_tc";
        } else {
            throw new IllegalStateException("config.json cannot describe a top-" + r.groupTopJ() + "-sum group score");
        }
        o.put("n_group", r.numGroups()).put("topk_group", r.topkGroups()).put("topk_method", method);
        o.put("scoring_func", r.scoreFunction().name().toLowerCase(Locale.ROOT));
        o.put("norm_topk_prob", r.normalize()).put("routed_scaling_factor", r.routeScale());
        o.put("first_k_dense_replace", firstDenseLayers).put("moe_layer_freq", moeLayerFreq);
        if (layers > 0) {
            o.put("num_hidden_layers", layers);
        }
        ObjectNode q = o.putObject("quantization_config");
        q.put("quant_method", "fp8").put("fmt", "e4m3").put("activation_scheme", "dynamic");
        q.putArray("weight_block_size").add(128).add(128);
        return o.toPrettyString() + "\n";
    }

    /** Typed access to the keys of one config file, with errors naming it. */
    private record Keys(Path file, JsonNode root) {
        JsonNode required(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                throw new IllegalArgumentException(file + ": missing key \"" + key + "\"");
            }
            return v;
        }

        IllegalArgumentException invalid(String key, String expected) {
            return new IllegalArgumentException(file + ": \"" + key + "\" is " + root.get(key) + ", expected " + expected);
        }

        int positive(String key) {
            JsonNode v = required(key);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
                throw invalid(key, "an integer >= 1");
            }
            return v.asInt();
        }

        int optional(String key, int absent) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                return absent;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
                throw invalid(key, "an integer >= 0");
            }
            return v.asInt();
        }

        double number(String key) {
            JsonNode v = required(key);
            if (!v.isNumber() || !Double.isFinite(v.asDouble()) || !(v.asDouble() > 0)) {
                throw invalid(key, "a finite number > 0");
            }
            return v.asDouble();
        }

        boolean bool(String key) {
            JsonNode v = required(key);
            if (!v.isBoolean()) {
                throw invalid(key, "true or false");
            }
            return v.asBoolean();
        }

        String text(String key) {
            JsonNode v = required(key);
            if (!v.isTextual()) {
                throw invalid(key, "a string");
            }
            return v.asText();
        }
    }
}
