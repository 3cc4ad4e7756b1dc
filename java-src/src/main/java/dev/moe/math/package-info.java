/**
 * Numeric helpers shared by the Java code paths: deterministic FP32 elementary functions that match
 * the native kernels bit for bit ({@link dev.moe.math.DetMath}) and the BF16 codec
 * ({@link dev.moe.math.Bf16}).
 *
 * <p>Internal: not part of the public API; may change without notice.
 */
package dev.moe.math;
