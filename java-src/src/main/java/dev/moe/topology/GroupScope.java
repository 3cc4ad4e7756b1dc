package dev.moe.topology;

/** What a router group stands for in the cluster. */
public enum GroupScope {
    /** Groups are nodes: DeepSeek-V3 node-limited routing (a token reaches at most M nodes). */
    NODE,
    /** Groups are GPUs: DeepSeek-V2 device-limited routing (a token reaches at most M devices). */
    DEVICE
}
