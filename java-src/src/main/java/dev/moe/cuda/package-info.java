/**
 * Thin Java ownership wrappers over the CUDA runtime calls of {@code libmoe_cuda}: the devices
 * ({@link dev.moe.cuda.CudaDevice}), streams ({@link dev.moe.cuda.CudaStream}), device memory owned like
 * an FFM arena ({@link dev.moe.cuda.DeviceArena}, {@link dev.moe.cuda.DeviceBuffer}), so that device
 * memory cannot outlive its owner, and captured work replayed as one launch ({@link dev.moe.cuda.CudaGraph}).
 * Public API, low level: the routers, FP8 kernels and layers use it; most callers never need it. A
 * failed CUDA call throws {@link dev.moe.nativelib.CudaException} naming the call and keeping the CUDA error
 * code. None of the types is thread-safe.
 */
package dev.moe.cuda;
