/**
 * The cluster of nodes × GPUs and where each routed expert lives ({@link dev.moe.topology.Topology}),
 * and what a router group stands for in it ({@link dev.moe.topology.GroupScope}: nodes for DeepSeek-V3
 * node-limited routing, GPUs for DeepSeek-V2 device-limited routing). Public API.
 */
package dev.moe.topology;
