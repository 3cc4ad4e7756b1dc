package dev.moe.train;

import java.util.Locale;

/**
 * One training step's figures: the row of the training CSV.
 *
 * @param step              1-based step
 * @param trainLoss         mean cross-entropy of the step's global batch, nats per byte
 * @param valLoss           held-out mean cross-entropy, or NaN when the step did not evaluate
 * @param maxVioBatch       MaxVio of the step's batch, mean over layers
 * @param maxVioGlobal      MaxVio over the whole held-out split, mean over layers, or NaN
 * @param auxLoss           the auxiliary loss added to the objective (sum over layers; 0 unless aux-loss)
 * @param routerGradNorm    ‖∂L/∂Wg‖ over all routers, before clipping
 * @param interferenceNorm  ‖∂L_aux/∂Wg‖ over all routers: the auxiliary loss's part of it
 * @param interferenceRatio interferenceNorm / ‖∂L_LM/∂Wg‖ (0 without an auxiliary loss)
 * @param learningRate      the step's learning rate
 * @param groupsPerToken    held-out: expert groups a token's experts span, mean over tokens and layers, or NaN
 * @param bias              layer 0's selection bias after the step (loss-free), or null
 */
public record TrainRecord(int step, double trainLoss, double valLoss, double maxVioBatch, double maxVioGlobal,
                          double auxLoss, double routerGradNorm, double interferenceNorm, double interferenceRatio,
                          double learningRate, double groupsPerToken, float[] bias) {
    /** The CSV header; the first eight columns are the command's contract, in this order. */
    public static final String CSV_HEADER = "step,train_loss,val_loss,maxvio_batch,maxvio_global,aux_loss,"
            + "router_grad_norm,interference_norm,interference_ratio,lr,val_groups_per_token";

    /** {@return whether this step evaluated on the held-out split} */
    public boolean evaluated() {
        return !Double.isNaN(valLoss);
    }

    /** {@return the CSV line (fixed formats, locale-independent; empty cells where nothing was evaluated)} */
    public String csv() {
        return String.format(Locale.ROOT, "%d,%.6f,%s,%.6f,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%s", step, trainLoss,
                evaluated() ? String.format(Locale.ROOT, "%.6f", valLoss) : "", maxVioBatch,
                evaluated() ? String.format(Locale.ROOT, "%.6f", maxVioGlobal) : "", auxLoss, routerGradNorm,
                interferenceNorm, interferenceRatio, learningRate,
                evaluated() ? String.format(Locale.ROOT, "%.4f", groupsPerToken) : "");
    }
}
