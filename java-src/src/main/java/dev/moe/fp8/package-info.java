/**
 * FP8 (OCP E4M3) following DeepSeek-V3's recipe (docs/specification.md §h, §i): block quantisation with one FP32 scale
 * per 1×128 (activations) or 128×128 (weights) tile, and block-scaled GEMMs with FP32 accumulation
 * promoted per 128-wide K chunk, dense and grouped over experts. Public API.
 *
 * <ul>
 *   <li>{@link dev.moe.fp8.E4m3}: the E4M3 codec, the bit-exact reference ({@link dev.moe.fp8.E4m3Vector}:
 *       the same with the Vector API).</li>
 *   <li>{@link dev.moe.fp8.QuantizedTensor}, {@link dev.moe.fp8.ExpertWeights} and
 *       {@link dev.moe.fp8.Fp8Block}: quantised matrices (row-major codes, tile scales) and tile shapes.</li>
 *   <li>{@link dev.moe.fp8.Fp8Quantizer} and {@link dev.moe.fp8.Fp8Gemm}: quantisation and GEMMs on a
 *       backend (java, cpu or cuda); {@link dev.moe.fp8.BlockQuantizer} and
 *       {@link dev.moe.fp8.Fp8GemmReference} are the pure-Java references the kernels are checked against.</li>
 *   <li>{@link dev.moe.fp8.CudaGemmKernel}: the CUDA GEMM kernels; {@link dev.moe.fp8.DeviceFp8Gemm} runs
 *       them on operands already on the device.</li>
 * </ul>
 * Inputs are checked in Java before native code sees them; a NaN or infinite input to quantisation
 * throws {@link dev.moe.fp8.NonFiniteTensorException}.
 */
package dev.moe.fp8;
