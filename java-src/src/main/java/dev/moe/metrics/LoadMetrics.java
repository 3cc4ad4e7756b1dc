package dev.moe.metrics;

/** Load-balance metrics of spec §e.5. */
public final class LoadMetrics {
    private LoadMetrics() {}

    /**
     * MaxVio = (max_i load_i − mean load) / mean load, mean = Σ load / N (the perfectly balanced
     * load). 0 for an empty batch (spec §k #10: no metric without tokens).
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

    /** MaxVio per layer, averaged over the layers that saw tokens (spec §e.5). */
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

    /** Relative load of each unit: load / mean load ([V3R] Fig. 9); all zeros for an empty batch. */
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
