/**
 * Thin Java ownership wrappers over the CUDA runtime calls of {@code libmoe_cuda}: streams
 * ({@link dev.moe.cuda.CudaStream}) and device memory owned like an FFM arena
 * ({@link dev.moe.cuda.DeviceArena}, {@link dev.moe.cuda.DeviceBuffer}), so that device memory cannot
 * outlive its owner. Public API, low level: the routers and FP8 kernels use it; most callers never
 * need it. A failed CUDA call throws {@link dev.moe.cuda.CudaException} naming the call and the error.
 * Neither type is thread-safe.
 */
package dev.moe.cuda;
