/**
 * DeepSeek-style MoE routing (docs/specification.md §b–§e): the fused gate that turns router logits into the K
 * chosen experts per token, their gate weights and the per-expert load, in one call. Public API.
 *
 * <ul>
 *   <li>{@link dev.moe.routing.RoutingConfig}: a validated configuration (N experts in G groups, keep
 *       M groups, choose K), with the DeepSeek-V3 and V2 presets and a builder.</li>
 *   <li>{@link dev.moe.routing.Router}: routes a batch, either zero-copy on caller-owned
 *       {@link java.lang.foreign.MemorySegment}s (row-major float [T, N] logits in, int [T, K] ids and
 *       float [T, K] weights out) or on Java arrays ({@link dev.moe.routing.RoutingResult}). Routers are
 *       immutable and thread-safe.</li>
 *   <li>{@link dev.moe.routing.Routers} creates a router on a {@link dev.moe.backend.Backend}: the
 *       pure-Java reference, the native CPU kernel or the CUDA kernel, all bit-identical;
 *       {@link dev.moe.backend.Backends} reports which are usable here and why.</li>
 *   <li>{@link dev.moe.routing.CudaGate}: the CUDA gate on device buffers, enqueued on a stream, for
 *       pipelines that keep their data on the GPU (and CUDA graphs).</li>
 * </ul>
 * Bad input is rejected before any kernel runs: {@link dev.moe.routing.InvalidConfigException} for a
 * configuration the spec forbids, {@link dev.moe.routing.NonFiniteInputException} for a NaN or infinite
 * logit, {@link IllegalArgumentException} for mismatched shapes, and
 * {@link dev.moe.backend.BackendUnavailableException} when a backend named explicitly cannot run (it is
 * never silently replaced).
 */
package dev.moe.routing;
