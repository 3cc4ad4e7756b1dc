package dev.moe.sim;

import java.util.Locale;

/**
 * One simulated training step, averaged (MaxVio, nodes per token) or summed (drops, sends) over layers.
 *
 * @param step              step index from 0
 * @param maxVioBatch       MaxVio of this step's batch (docs/specification.md §e.5)
 * @param dropped           token-expert assignments dropped by capacity limits
 * @param crossNodeSends    token copies sent to another node (one per destination node)
 * @param meanNodesPerToken mean number of nodes a token reached
 * @param maxNodesPerToken  most nodes any token reached (never above the node limit)
 * @param gamma             bias update speed used at the end of this step
 * @param biasMin           smallest balancing parameter of layer 0 after the update (the selection bias, or
 *                          for aux-loss runs the trained logit offset)
 * @param biasMax           largest balancing parameter of layer 0 after the update
 * @param auxLoss           aux-loss runs: the balance loss of this step (mean over layers), else 0
 * @param auxGradNorm       aux-loss runs: ‖∂L/∂z‖₂ over the batch's logits (mean over layers), the gradient the
 *                          loss injects into the router ("interference"), else 0
 * @param intraNodeForwards token copies forwarded inside a node from the arrival GPU to another GPU holding
 *                          one of the token's experts (NVLink hops in DeepSeek's dispatch)
 */
public record StepRecord(long step, double maxVioBatch, long dropped, long crossNodeSends, double meanNodesPerToken,
                         int maxNodesPerToken, float gamma, float biasMin, float biasMax, double auxLoss, double auxGradNorm,
                         long intraNodeForwards) {

    /** CSV header; the first five columns are the contract of docs/cli.md, in this order. */
    public static final String CSV_HEADER =
            "step,maxvio_batch,dropped,cross_node_sends,mean_nodes_per_token,max_nodes_per_token,gamma,bias_min,bias_max,"
            + "aux_loss,aux_grad_norm,intra_node_forwards";

    /**
     * {@return the CSV line, in the columns of {@link #CSV_HEADER} (fixed formats, locale-independent, so
     * runs compare byte for byte)}
     */
    public String csv() {
        return String.format(Locale.ROOT, "%d,%.6f,%d,%d,%.6f,%d,%.6g,%.6f,%.6f,%.6g,%.6g,%d", step, maxVioBatch, dropped,
                crossNodeSends, meanNodesPerToken, maxNodesPerToken, gamma, biasMin, biasMax, auxLoss, auxGradNorm,
                intraNodeForwards);
    }
}
