package dev.moe.backend;

/**
 * Whether a backend can route on this machine, and why (not).
 *
 * @param backend the backend
 * @param usable  true if {@link dev.moe.routing.Routers#create} would succeed for it
 * @param detail  what was found: library path and kernel, or the reason it is unusable
 */
public record BackendStatus(Backend backend, boolean usable, String detail) {}
