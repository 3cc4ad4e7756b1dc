/**
 * Where the library's kernels run and what this machine offers: the backends ({@link dev.moe.backend.Backend}:
 * the pure-Java reference, the native CPU kernels, CUDA), whether each is usable here and why not
 * ({@link dev.moe.backend.Backends}, {@link dev.moe.backend.BackendStatus}), the exception for a backend
 * named explicitly that cannot run ({@link dev.moe.backend.BackendUnavailableException}: never a silent
 * fallback), and the CPU's measured ceilings ({@link dev.moe.backend.MachinePeaks}). Routing, FP8 and the
 * layers choose their backend here. Public API.
 */
package dev.moe.backend;
