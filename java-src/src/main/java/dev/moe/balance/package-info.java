/**
 * DeepSeek-V3's auxiliary-loss-free load balancing (docs/specification.md §e): a per-layer, per-expert selection bias
 * moved after every step against the experts' loads, so that selection evens out without a loss
 * term in the gradient. Public API.
 *
 * <ul>
 *   <li>{@link dev.moe.balance.BiasBalancer}: the controller for many layers (not thread-safe; one per
 *       training loop).</li>
 *   <li>{@link dev.moe.balance.BiasUpdateRule}: how the bias moves (sign, proportional, multiplicative).</li>
 *   <li>{@link dev.moe.balance.GammaSchedule}: the update speed γ over the tokens trained on.</li>
 *   <li>{@link dev.moe.balance.BiasState} and {@link dev.moe.balance.BiasStateFile}: the controller's
 *       state and its validated, atomically written file.</li>
 * </ul>
 */
package dev.moe.balance;
