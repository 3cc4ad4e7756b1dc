/**
 * NumPy {@code .npy} files ({@link dev.moe.io.Npy}, {@link dev.moe.io.NpyArray},
 * {@link dev.moe.io.NpyDType}): fully validated, read into memory (or mapped, zero-copy); written byte for
 * byte as {@code numpy.save} writes them. Writes are atomic and all-or-none across the outputs of one
 * operation ({@link dev.moe.io.OutputFiles}, {@link dev.moe.io.AtomicFiles}): readers see the old files or
 * the complete new ones, an output is never an input, and a failure or a kill leaves no temporary file.
 * A malformed file throws {@link dev.moe.io.NpyFormatException}, an unusable path
 * {@link dev.moe.io.FileArgumentException}, each naming the file and the problem.
 * {@link dev.moe.io.JsonFiles} reads small JSON files strictly. Public API.
 */
package dev.moe.io;
