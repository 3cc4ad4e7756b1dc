/**
 * The {@code ./moe} command line (picocli): routing, simulation, EPLB, FP8, layer, soak, demo and
 * benchmark commands over the library's public packages. {@link dev.moe.cli.MoeCli} is the entry point.
 *
 * <p>Internal: not part of the public API; may change without notice. The command line itself is
 * specified by docs/cli.md.
 */
package dev.moe.cli;
