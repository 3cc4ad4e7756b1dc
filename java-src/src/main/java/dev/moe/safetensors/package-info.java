/**
 * The safetensors checkpoint format: {@link dev.moe.safetensors.SafetensorsFile} memory-maps a file,
 * validates its header and exposes its tensors as zero-copy views
 * ({@link dev.moe.safetensors.SafetensorsTensor}) that live as long as the arena;
 * {@link dev.moe.safetensors.SafetensorsWriter} builds small files and writes them atomically;
 * {@link dev.moe.safetensors.ShardedSafetensors} reads a checkpoint sharded over several files through its
 * {@code model.safetensors.index.json}; both are a {@link dev.moe.safetensors.TensorSource}. A
 * malformed file throws {@link dev.moe.safetensors.SafetensorsFormatException}. Public API.
 */
package dev.moe.safetensors;
