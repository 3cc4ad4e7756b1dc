package dev.moe.routing;

/**
 * Diagnostics of one routing call.
 *
 * @param tokens       tokens routed
 * @param zeroSumRows  tokens whose chosen scores summed to 0 before renormalisation, so the 1e-20 guard
 *                     of docs/specification.md §k #5 made their weights 0 (all chosen sigmoid scores underflowed)
 */
public record GateStats(long tokens, long zeroSumRows) {}
