/**
 * NumPy {@code .npy} files ({@link dev.moe.io.Npy}, {@link dev.moe.io.NpyArray},
 * {@link dev.moe.io.NpyDType}): read by memory-mapping, fully validated, zero-copy; written byte for byte
 * as {@code numpy.save} writes them. Writes are atomic ({@link dev.moe.io.AtomicFiles}): readers see the
 * old file or the complete new one. A malformed file throws {@link dev.moe.io.NpyFormatException} naming
 * the file and the problem. {@link dev.moe.io.JsonFiles} reads small JSON files strictly. Public API.
 */
package dev.moe.io;
