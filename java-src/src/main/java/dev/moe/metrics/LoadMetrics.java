package dev.moe.metrics;

/** Load-balance metrics of docs/specification.md §e.5. */
public final class LoadMetrics {
    private LoadMetrics() {}

    /**
     * MaxVio = (max_i load_i − mean load) / mean load, mean = Σ load / N (the perfectly balanced
     * load). 0 for an empty batch (docs/specification.md §k #10: no metric without tokens).
     *
     * @param load long [N], assignments per expert (or per GPU, node...)
     * @return MaxVio, &ge; 0
     */
    public static double maxVio(long[] load) {
        long sum = 0;
        long max = 0;
        for (long l : load) {
            sum += l;
            max = Math.max(max, l);
        }
        if (sum == 0) {
            return 0.0;
        }
        double mean = (double) sum / load.length;
        return (max - mean) / mean;
    }

    /**
     * MaxVio_computation-batch ([LF] §5.1): the routed ids cut into consecutive batches of
     * {@code batch} tokens (a partial tail is ignored), MaxVio of each, averaged.
     *
     * @param ids        int [T*K], row-major expert ids; −1 is skipped
     * @param topk       K, &ge; 1
     * @param numExperts N; every id must be below it
     * @param batch      tokens per computation batch, &ge; 1
     * @return the mean MaxVio over the batches; 0 if not even one batch fits
     * @throws IllegalArgumentException if {@code batch} or {@code topk} is below 1
     */
    public static double maxVioPerBatch(int[] ids, int topk, int numExperts, int batch) {
        if (batch < 1 || topk < 1) {
            throw new IllegalArgumentException("batch and K must be >= 1, got " + batch + " and " + topk);
        }
        int batches = ids.length / topk / batch;
        double acc = 0;
        long[] load = new long[numExperts];
        for (int b = 0; b < batches; b++) {
            java.util.Arrays.fill(load, 0);
            int from = b * batch * topk;
            for (int o = from; o < from + batch * topk; o++) {
                if (ids[o] >= 0) {
                    load[ids[o]]++;
                }
            }
            acc += maxVio(load);
        }
        return batches == 0 ? 0.0 : acc / batches;
    }

    /**
     * MaxVio per layer, averaged over the layers that saw tokens (docs/specification.md §e.5).
     *
     * @param loadPerLayer long [layers][N], assignments per expert of each layer
     * @return the mean MaxVio; 0 if no layer saw tokens
     */
    public static double maxVio(long[][] loadPerLayer) {
        double acc = 0;
        int layers = 0;
        for (long[] load : loadPerLayer) {
            long sum = 0;
            for (long l : load) {
                sum += l;
            }
            if (sum > 0) {
                acc += maxVio(load);
                layers++;
            }
        }
        return layers == 0 ? 0.0 : acc / layers;
    }

    /**
     * Relative load of each unit: load / mean load ([V3R] Fig. 9).
     *
     * @param load long [N], assignments per unit
     * @return double [N]; all zeros for an empty batch
     */
    public static double[] relative(long[] load) {
        long sum = 0;
        for (long l : load) {
            sum += l;
        }
        double[] out = new double[load.length];
        if (sum == 0) {
            return out;
        }
        double mean = (double) sum / load.length;
        for (int i = 0; i < load.length; i++) {
            out[i] = load[i] / mean;
        }
        return out;
    }
}
