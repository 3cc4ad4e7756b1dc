/**
 * A whole DeepSeek-style MoE layer (docs/specification.md §c.3): router projection, the gate, FP8 SwiGLU experts,
 * the weighted combine and the shared expert. Public API.
 *
 * <ul>
 *   <li>{@link dev.moe.layer.MoeLayerWeights}: the weights (FP32 router, FP8 experts in 128×128 blocks),
 *       synthetic or read from a DeepSeek-V3-layout checkpoint by {@link dev.moe.layer.MoeLayerCheckpoint}, from one
 *       safetensors file or from a Hugging Face checkpoint directory ({@link dev.moe.layer.DeepSeekCheckpoint}, routing
 *       and sizes from its {@code config.json}: {@link dev.moe.layer.DeepSeekConfig}).</li>
 *   <li>{@link dev.moe.layer.MoeLayer}: the forward pass in one process (immutable, thread-safe).</li>
 *   <li>{@link dev.moe.layer.ExpertParallelMoeLayer}: the same with the experts spread over the ranks of
 *       a {@link dev.moe.dist.Communicator}, dispatching and combining as DeepSeek-V3 does.</li>
 * </ul>
 */
package dev.moe.layer;
