package dev.moe.routing;

import java.lang.foreign.MemorySegment;

import dev.moe.backend.Backend;

/**
 * Routes tokens to experts: scores, selection bias, group limit, top-K, weights and the per-expert
 * load histogram, all in one call. Implementations are immutable and thread-safe; share one router
 * across threads. Obtain one from {@link Routers#create(RoutingConfig, Backend)}.
 */
public interface Router {

    /** {@return the configuration this router applies} */
    RoutingConfig config();

    /** {@return the backend doing the work (never {@link Backend#AUTO})} */
    Backend backend();

    /**
     * The zero-copy hot path. All segments are row-major, native byte order; native backends need
     * native (off-heap) segments.
     *
     * @param logits     float [T, N] router logits; every value must be finite
     * @param numTokens  T (0 is valid and does nothing)
     * @param bias       float [N] selection bias (finite), or {@code null} / {@link MemorySegment#NULL}
     * @param outIds     int [T, K] receives expert ids
     * @param outWeights float [T, K] receives gate weights
     * @param expertLoad long [N] to which the per-expert counts are added, or {@code null}
     * @return diagnostics of the call
     * @throws NonFiniteInputException if a logit is NaN or infinite (nothing is added to expertLoad)
     * @throws IllegalArgumentException if a segment's size does not match the shapes
     */
    GateStats route(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                    MemorySegment outWeights, MemorySegment expertLoad);

    /**
     * Convenience: routes logits held in a float array of T·N values. Allocates the results; works with
     * every backend (native backends copy the arrays through native memory).
     *
     * @param logits float [T*N], row-major; every value must be finite
     * @param bias   float [N] or {@code null}
     * @return ids, weights and the per-expert load of the T tokens
     * @throws NonFiniteInputException if a logit is NaN or infinite
     * @throws IllegalArgumentException if the length of {@code logits} is not a multiple of N, {@code bias}
     *         is not of length N, or a bias value is not finite
     */
    RoutingResult route(float[] logits, float[] bias);
}
