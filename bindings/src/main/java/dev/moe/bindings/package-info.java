/**
 * FFM bindings of the C headers {@code native/include/moe/moe.h} ({@link dev.moe.bindings.moe_h}, with
 * its structs: {@link dev.moe.bindings.moe_gate_config}, {@link dev.moe.bindings.moe_gate_stats},
 * {@link dev.moe.bindings.moe_library_info}, {@link dev.moe.bindings.moe_fp8_gemm_args},
 * {@link dev.moe.bindings.moe_cuda_device_info}, {@link dev.moe.bindings.moe_layer_args}) and
 * {@code moe_mpi.h} ({@link dev.moe.bindings.moe_mpi_h}); the tests' {@code moe_testkit_h} lives in the
 * test sources. All are kept in exactly the shape jextract generates
 * (see {@code bindings/jextract.sh}): one static method per C function, taking raw
 * {@link java.lang.foreign.MemorySegment}s, returning C status codes, with no argument checks.
 * Load the library first ({@link dev.moe.nativelib.MoeNative}); symbols are looked up in libraries loaded
 * by this class loader.
 *
 * <p>Internal: not part of the public API; may change without notice. The classes mirror the C ABI
 * ({@code MOE_ABI_VERSION}) and change with it; use {@code dev.moe.routing} and {@code dev.moe.fp8},
 * which check every input before it reaches native code.
 */
package dev.moe.bindings;
