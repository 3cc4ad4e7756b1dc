package dev.moe.eplb;

/**
 * Where each expert's replicas live (docs/specification.md §j).
 *
 * @param phy2log [L][R] logical expert held by each physical slot; slot p lives on GPU p / (R/P)
 * @param log2phy [L][N][maxcnt] physical slots of each logical expert by replica rank, padded with −1
 * @param logcnt  [L][N] replica count of each logical expert
 */
public record ExpertPlacementPlan(int[][] phy2log, int[][][] log2phy, int[][] logcnt) {

    /**
     * Load of each GPU per layer: each replica carries its expert's load divided by the replica count.
     *
     * @param weight  [L][N] load of each logical expert per layer
     * @param numGpus P, dividing R
     * @return double [L][P]
     */
    public double[][] gpuLoads(float[][] weight, int numGpus) {
        int layers = phy2log.length;
        int slots = phy2log[0].length;
        int perGpu = slots / numGpus;
        double[][] out = new double[layers][numGpus];
        for (int l = 0; l < layers; l++) {
            for (int p = 0; p < slots; p++) {
                int e = phy2log[l][p];
                out[l][p / perGpu] += (double) weight[l][e] / logcnt[l][e];
            }
        }
        return out;
    }
}
