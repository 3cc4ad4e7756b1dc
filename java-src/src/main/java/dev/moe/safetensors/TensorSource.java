package dev.moe.safetensors;

import java.nio.file.Path;

/**
 * Tensors by name: one safetensors file ({@link SafetensorsFile}) or the shards of a sharded
 * checkpoint ({@link ShardedSafetensors}).
 */
public interface TensorSource {
    /** {@return the file or directory the tensors come from, for messages} */
    Path path();

    /**
     * Whether a tensor of this name exists.
     *
     * @param name the tensor name
     * @return true if the source lists it
     */
    boolean contains(String name);

    /**
     * The tensor named {@code name}.
     *
     * @param name the tensor name
     * @return the tensor, a view of a mapped file
     * @throws IllegalArgumentException naming the file at fault if there is no such tensor or the file
     *         that should hold it is missing or does not
     */
    SafetensorsTensor tensor(String name);
}
