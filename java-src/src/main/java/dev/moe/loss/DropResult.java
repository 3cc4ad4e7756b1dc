package dev.moe.loss;

/**
 * The routing left after capacity-based token dropping (docs/specification.md §g). Dropped assignments have id −1
 * and weight 0; surviving weights are unchanged (not renormalised).
 *
 * @param mode         how capacity was enforced
 * @param capacity     the budget per device ({@link CapacityDropper.Mode#DEVICE_LEVEL}) or per expert
 *                     ({@link CapacityDropper.Mode#EXPERT_LEVEL}); {@link Integer#MAX_VALUE} for
 *                     {@link CapacityDropper.Mode#NO_DROP}
 * @param ids          int [T*K], a copy of the input with dropped ids set to −1
 * @param weights      float [T*K], a copy of the input with dropped weights set to 0
 * @param dropped      assignments dropped per device (device-level, length D) or per expert
 *                     (expert-level and no-drop, length N)
 * @param totalDropped the sum of {@code dropped}
 */
public record DropResult(CapacityDropper.Mode mode, int capacity, int[] ids, float[] weights, int[] dropped,
                         int totalDropped) {
}
