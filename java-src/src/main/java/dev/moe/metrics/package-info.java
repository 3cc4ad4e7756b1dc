/**
 * Load-balance and dispatch metrics (docs/specification.md §d.2, §e.5): MaxVio and relative loads
 * ({@link dev.moe.metrics.LoadMetrics}), and what dispatching a routed batch costs on a cluster
 * topology ({@link dev.moe.metrics.DispatchStats}). Pure functions of their inputs. Public API.
 */
package dev.moe.metrics;
