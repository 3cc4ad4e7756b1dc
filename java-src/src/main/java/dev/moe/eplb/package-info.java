/**
 * DeepSeek's expert-parallel load balancer (EPLB, docs/specification.md §j): from estimated per-expert loads, plans how
 * many replicas each expert gets and on which GPU each replica lives ({@link dev.moe.eplb.Eplb},
 * {@link dev.moe.eplb.ExpertPlacementPlan}). Pure Java, deterministic. Public API.
 */
package dev.moe.eplb;
