/**
 * Auxiliary load-balancing losses and capacity-based token dropping for DeepSeek-style MoE
 * routing (docs/specification.md §f, §g). Pure Java; inputs are float, everything inside is double.
 *
 * <h2>Losses (docs/specification.md §f)</h2>
 * Every loss has the form L = Σ_i c_i P_i: a non-differentiable per-expert coefficient c_i built
 * from which experts the tokens selected (the indicator behind f), times the mean score P_i of the
 * expert over the T tokens of the scope. Gradients flow only through P, i.e. through the scores
 * and from there through the score function into the router logits z.
 * <ul>
 *   <li>{@link dev.moe.loss.ExpertBalanceLoss}: DeepSeek-V2 expert-level balance (§f.1)</li>
 *   <li>{@link dev.moe.loss.DeviceBalanceLoss}: DeepSeek-V2 device-level balance (§f.1)</li>
 *   <li>{@link dev.moe.loss.CommunicationBalanceLoss}: DeepSeek-V2 communication balance (§f.1)</li>
 *   <li>{@link dev.moe.loss.SequenceBalanceLoss}: DeepSeek-V3 complementary sequence-wise (or
 *       batch-wise) balance, with scores normalised per token (§f.2)</li>
 * </ul>
 * The selection (the indicator) is an explicit input, {@link dev.moe.loss.ExpertSelection}, so that
 * it stays fixed when the logits are perturbed, e.g. for finite differences. The scope of one
 * {@code compute} call is the tokens passed in: one sequence for the sequence-wise losses, the
 * whole batch for the batch-wise variant; {@link dev.moe.loss.AuxLosses#meanOverSequences} splits a
 * batch into sequences and averages.
 *
 * <h2>Dropping (docs/specification.md §g)</h2>
 * {@link dev.moe.loss.CapacityDropper}: DeepSeek-V2 device-level dropping, Megatron-style
 * expert-level dropping, or none (DeepSeek-V3).
 */
package dev.moe.loss;
