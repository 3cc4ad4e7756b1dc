package dev.moe.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.moe.io.AtomicFiles;
import dev.moe.io.JsonFiles;

/**
 * A checkpoint sharded the way Hugging Face stores large models: a directory with
 * {@code model.safetensors.index.json}, whose {@code "weight_map"} maps each tensor name to the shard
 * file that holds it ({@code model-00001-of-00163.safetensors}, ...), next to those shards.
 *
 * <p>The index is read and checked when opened (an object with a {@code weight_map} of plain file
 * names in the directory); a shard is mapped the first time one of its tensors is asked for, and must
 * then exist and hold that tensor. Every problem is an {@link IllegalArgumentException} naming the
 * index or the shard. The mappings live as long as the arena. Not thread-safe.
 */
public final class ShardedSafetensors implements TensorSource {
    /** The index file's name. */
    public static final String INDEX = "model.safetensors.index.json";
    /** The largest index accepted (DeepSeek-V3's is about 9 MB). */
    static final long MAX_INDEX_BYTES = 256L << 20;

    private final Path dir;
    private final Path index;
    private final Map<String, String> weightMap;
    private final Arena arena;
    private final Map<String, SafetensorsFile> shards = new HashMap<>();

    private ShardedSafetensors(Path dir, Path index, Map<String, String> weightMap, Arena arena) {
        this.dir = dir;
        this.index = index;
        this.weightMap = weightMap;
        this.arena = arena;
    }

    /**
     * Reads the index of the sharded checkpoint in {@code dir}; maps no shard yet.
     *
     * @param dir   the checkpoint directory
     * @param arena the arena that will own the shards' mappings
     * @return the checkpoint's tensors
     * @throws IllegalArgumentException naming the index if it is not valid JSON, has no
     *         {@code weight_map} object, or maps a tensor to something other than a file name
     * @throws IOException if the index cannot be read ({@link NoSuchFileException} if it is missing)
     */
    public static ShardedSafetensors open(Path dir, Arena arena) throws IOException {
        Path index = dir.resolve(INDEX);
        JsonNode map = JsonFiles.readObject(index, MAX_INDEX_BYTES).path("weight_map");
        if (!map.isObject()) {
            throw new IllegalArgumentException(index + ": no \"weight_map\" object (tensor name -> shard file)");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".") || shard.equals("..")) {
                throw new IllegalArgumentException(index + ": weight_map gives tensor '" + e.getKey() + "' the shard " + e.getValue()
                        + ", not a file name in " + dir);
            }
            weightMap.put(e.getKey(), shard);
        }
        return new ShardedSafetensors(dir, index, Collections.unmodifiableMap(weightMap), arena);
    }

    /** {@return the checkpoint directory} */
    @Override
    public Path path() {
        return dir;
    }

    /** {@return the index's weight map: tensor name to shard file name (unmodifiable, in index order)} */
    public Map<String, String> weightMap() {
        return weightMap;
    }

    @Override
    public boolean contains(String name) {
        return weightMap.containsKey(name);
    }

    @Override
    public SafetensorsTensor tensor(String name) {
        String shardName = weightMap.get(name);
        if (shardName == null) {
            throw new IllegalArgumentException(index + ": no tensor named '" + name + "' in weight_map");
        }
        SafetensorsFile shard = shard(shardName, name);
        if (!shard.contains(name)) {
            throw new IllegalArgumentException(index + ": weight_map puts tensor '" + name + "' in " + shardName
                    + ", which does not hold it");
        }
        return shard.tensor(name);
    }

    private SafetensorsFile shard(String shardName, String tensor) {
        SafetensorsFile f = shards.get(shardName);
        if (f == null) {
            Path p = dir.resolve(shardName);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(index + ": shard " + shardName + " (of tensor '" + tensor + "') is missing from "
                        + dir);
            }
            try {
                f = SafetensorsFile.open(p, arena);
            } catch (IOException e) {
                throw new IllegalArgumentException(p + ": cannot read shard: " + e.getMessage(), e);
            }
            shards.put(shardName, f);
        }
        return f;
    }

    /**
     * Writes shards and their index into {@code dir} (which must exist): shard {@code i} of {@code n}
     * is {@code model-0000i-of-0000n.safetensors}, every file written atomically.
     *
     * @param dir    the checkpoint directory
     * @param shards the shards' contents, in order
     * @throws IOException if a file cannot be written
     */
    public static void write(Path dir, List<SafetensorsWriter> shards) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ObjectNode weightMap = om.createObjectNode();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            byte[] bytes = shards.get(i).toBytes();
            AtomicFiles.write(dir.resolve(name), bytes);
            for (String tensor : shards.get(i).names()) {
                weightMap.put(tensor, name);
            }
            total += shards.get(i).dataBytes();
        }
        root.putObject("metadata").put("total_size", total);
        root.set("weight_map", weightMap);
        AtomicFiles.write(dir.resolve(INDEX), root.toPrettyString().getBytes(StandardCharsets.UTF_8));
    }
}
