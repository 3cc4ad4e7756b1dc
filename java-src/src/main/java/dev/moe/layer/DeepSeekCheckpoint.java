package dev.moe.layer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.moe.io.AtomicFiles;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsFile;
import dev.moe.safetensors.SafetensorsWriter;
import dev.moe.safetensors.ShardedSafetensors;
import dev.moe.safetensors.TensorSource;

/**
 * A DeepSeek-V2/V3 checkpoint directory as Hugging Face ships it: {@code config.json}
 * ({@link DeepSeekConfig}) and either {@code model.safetensors.index.json} with the shards it names
 * ({@link ShardedSafetensors}) or a single {@code model.safetensors}; tensor names as
 * {@link MoeLayerCheckpoint} lists them.
 */
public final class DeepSeekCheckpoint {
    /** The tensor file of an unsharded checkpoint directory. */
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path dir;
    private final DeepSeekConfig config;
    private final TensorSource tensors;

    private DeepSeekCheckpoint(Path dir, DeepSeekConfig config, TensorSource tensors) {
        this.dir = dir;
        this.config = config;
        this.tensors = tensors;
    }

    /**
     * Reads {@code config.json} and the shard index (or maps {@code model.safetensors}); shards are
     * mapped when their tensors are first read.
     *
     * @param dir   the checkpoint directory
     * @param arena the arena that owns the mappings
     * @return the checkpoint
     * @throws IllegalArgumentException naming the file at fault: no {@code config.json}, neither an
     *         index nor {@code model.safetensors}, or an invalid config, index or file
     * @throws IOException if a file cannot be read
     */
    public static DeepSeekCheckpoint open(Path dir, Arena arena) throws IOException {
        Path configFile = dir.resolve(DeepSeekConfig.FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException(dir + ": no " + DeepSeekConfig.FILE + " (a Hugging Face checkpoint directory holds "
                    + DeepSeekConfig.FILE + " next to its safetensors files)");
        }
        DeepSeekConfig config = DeepSeekConfig.read(configFile);
        TensorSource tensors;
        if (Files.exists(dir.resolve(ShardedSafetensors.INDEX))) {
            tensors = ShardedSafetensors.open(dir, arena);
        } else if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
            tensors = SafetensorsFile.open(dir.resolve(SINGLE_FILE), arena);
        } else {
            throw new IllegalArgumentException(dir + ": neither " + ShardedSafetensors.INDEX + " nor " + SINGLE_FILE);
        }
        return new DeepSeekCheckpoint(dir, config, tensors);
    }

    /** {@return what config.json says} */
    public DeepSeekConfig config() {
        return config;
    }

    /** {@return the checkpoint's tensors} */
    public TensorSource tensors() {
        return tensors;
    }

    /**
     * Reads MoE layer {@code layer} and checks it against {@code config.json}.
     *
     * @param layer   the layer index
     * @param routing the routing to run it with: {@code config().routing()}, or one overriding it
     * @return the weights, copied to the heap
     * @throws IllegalArgumentException naming the file at fault if the layer is not an MoE layer, a
     *         tensor is missing or malformed, or the tensors disagree with {@code config.json}
     */
    public MoeLayerWeights loadLayer(int layer, RoutingConfig routing) {
        Path configFile = dir.resolve(DeepSeekConfig.FILE);
        config.requireMoeLayer(layer, configFile);
        MoeLayerWeights w = MoeLayerCheckpoint.load(tensors, layer, routing);
        config.requireSizes(w, configFile);
        return w;
    }

    /**
     * Writes a checkpoint directory holding layer {@code layer} of {@code w}: {@code config.json} (the
     * layer is the model's last and only MoE layer), the index and {@code shards} shards of about equal
     * size, each file written atomically.
     *
     * @param dir      an existing directory
     * @param layer    the layer index L in the tensor names
     * @param w        the weights
     * @param shards   the number of shard files, &ge; 1
     * @param gateBf16 store the router weight as BF16, as DeepSeek does, instead of F32
     * @throws IllegalArgumentException if {@code shards} is below 1 or above the number of tensors, or
     *         the shared expert's width is not a multiple of I (config.json could not describe it)
     * @throws IOException if a file cannot be written
     */
    public static void write(Path dir, int layer, MoeLayerWeights w, int shards, boolean gateBf16) throws IOException {
        int sharedWidth = w.hasSharedExpert() ? w.sharedW2().cols() : 0;
        if (sharedWidth % w.intermediate() != 0) {
            throw new IllegalArgumentException("shared expert width " + sharedWidth + " is not a multiple of I = " + w.intermediate());
        }
        SafetensorsWriter all = new SafetensorsWriter();
        MoeLayerCheckpoint.write(all, layer, w, gateBf16);
        List<String> names = all.names();
        if (shards < 1 || shards > names.size()) {
            throw new IllegalArgumentException("shards must be in 1.." + names.size() + " (the layer's tensors), got " + shards);
        }
        long target = (all.dataBytes() + shards - 1) / shards;
        List<SafetensorsWriter> parts = new ArrayList<>();
        List<String> part = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < names.size(); i++) {
            part.add(names.get(i));
            bytes += all.select(List.of(names.get(i))).dataBytes();
            int left = names.size() - i - 1;
            int shardsLeft = shards - parts.size() - 1;
            if (shardsLeft > 0 && (bytes >= target || left == shardsLeft)) {
                parts.add(all.select(part));
                part = new ArrayList<>();
                bytes = 0;
            }
        }
        parts.add(all.select(part));
        ShardedSafetensors.write(dir, parts);
        DeepSeekConfig config = new DeepSeekConfig(w.config(), w.hidden(), w.intermediate(), sharedWidth / w.intermediate(), 0, 1,
                layer + 1);
        AtomicFiles.write(dir.resolve(DeepSeekConfig.FILE), config.toJson().getBytes(StandardCharsets.UTF_8));
    }
}
