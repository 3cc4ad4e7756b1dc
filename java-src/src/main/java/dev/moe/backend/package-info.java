/**
 * What this machine can run and how fast: the measured ceilings of the CPU
 * ({@link dev.moe.backend.MachinePeaks}) that benchmark reports compare against.
 */
package dev.moe.backend;
