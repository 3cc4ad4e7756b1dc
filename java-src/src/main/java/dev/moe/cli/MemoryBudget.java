package dev.moe.cli;

import java.lang.management.ManagementFactory;
import java.util.Locale;

import dev.moe.sim.BalancerKind;
import dev.moe.sim.SimulationSettings;

/**
 * What a command is about to allocate, checked against what this JVM and machine have before anything
 * is allocated, so that a size flag too large for the machine is a one-line usage error (exit 2) rather
 * than an {@link OutOfMemoryError} after minutes of work. Sizes are products of flags and shapes,
 * computed without overflow (a product beyond 2^63 saturates, and is reported as such). The Java heap is
 * bounded by {@code -Xmx} (what {@link Runtime#maxMemory()} reports, less what is in use); native memory
 * (FFM arenas, not limited by the JVM) by the machine's physical memory, or the container's limit.
 */
final class MemoryBudget {
    private final String what;
    private long heapBytes;
    private long nativeBytes;
    /** A size that fits the memory but not the arrays it would be held in (reported after the memory), or null. */
    private String tooLarge;

    private MemoryBudget(String what) {
        this.what = what;
    }

    /**
     * A budget for one command.
     *
     * @param what names the work in the message, e.g. "simulate --tokens-per-step 100000000"
     */
    static MemoryBudget of(String what) {
        return new MemoryBudget(what);
    }

    /** Adds the product of {@code factors} bytes of Java heap (e.g. {@code heap(tokens, experts, 4)}). */
    MemoryBudget heap(long... factors) {
        heapBytes = plus(heapBytes, product(factors));
        return this;
    }

    /** Adds the product of {@code factors} bytes of native memory. */
    MemoryBudget offHeap(long... factors) {
        nativeBytes = plus(nativeBytes, product(factors));
        return this;
    }

    /**
     * Throws when the heap or native memory needed exceeds what is available.
     *
     * @throws UsageException e.g. "simulate --tokens-per-step 1000000000: needs about 954 GiB of native memory,
     *         this machine has 23.5 GiB"
     */
    void require() {
        Runtime rt = Runtime.getRuntime();
        long heapFree = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (heapBytes > heapFree) {
            throw new UsageException(what + ": needs about " + format(heapBytes) + " of Java heap, but this JVM has "
                    + format(heapFree) + " free (at most " + format(rt.maxMemory()) + "; raise it with MOE_JAVA_OPTS=-Xmx...)");
        }
        long physical = physicalMemory();
        if (nativeBytes > physical) {
            throw new UsageException(what + ": needs about " + format(nativeBytes) + " of native memory, but this machine has "
                    + format(physical));
        }
        if (tooLarge != null) {
            throw new UsageException(what + ": " + tooLarge);
        }
    }

    /**
     * Adds what the simulator allocates for {@code s} (one process, the whole batch): each step's logits,
     * ids and weights (native) and the held-out set; per layer the workload's domain centroids, counts and
     * bias; per step the recorded bias and load; per step's assignments the copies dropping and the
     * aux-loss baseline make. Also checks that the per-layer arrays fit Java arrays.
     */
    MemoryBudget simulation(SimulationSettings s) {
        long n = s.config().numExperts();
        long k = s.config().topk();
        long t = s.tokensPerStep();
        if (product(2, s.layers(), n + 2) > NpyInputs.MAX_ARRAY) {
            tooLarge = s.layers() + " layers x " + n + " experts are too many (their counts must fit one Java array)";
        }
        offHeap(t, n, 4).offHeap(t, k, 8).offHeap(s.heldOutTokens(), n + 2 * k, 4);
        heap(s.layers(), n, 8L * 4 + 4 * 8 + 4).heap(s.steps(), n, 8).heap(s.steps(), 128);
        if (s.drops() || s.balancer() == BalancerKind.AUX_LOSS) {
            heap(t, k, 4 * 4);
        }
        if (s.balancer() == BalancerKind.AUX_LOSS) {
            heap(t, n, 4 * 3);
        }
        return this;
    }

    /**
     * Adds what training a model of {@code c} on batches of {@code batch} sequences holds on the heap: the
     * parameters, their gradient and AdamW's two moments; per layer the saved activations (about 16
     * d-wide and 3·I·K-wide rows per token, the attention probabilities B·H·S²) and the backward's scratch.
     */
    MemoryBudget training(dev.moe.train.TransformerConfig c, int batch) {
        long t = product(batch, c.seqLen());
        heap(c.parameterCount(), 4 * 4);
        long perToken = 16L * c.dim() + 3L * c.topk() * (2L * c.expertDim() + c.dim()) + 3L * c.sharedDim() + c.experts()
                + 2L * c.topk();
        heap(c.layers(), t, perToken, 4).heap(c.layers() + 1, batch, c.heads(), product(c.seqLen(), c.seqLen(), 4));
        heap(t, dev.moe.train.TransformerConfig.VOCAB + 4L * c.dim(), 4);
        return this;
    }

    /** The product of non-negative factors, {@link Long#MAX_VALUE} if it does not fit in 63 bits. */
    static long product(long... factors) {
        long p = 1;
        boolean saturated = false;
        for (long f : factors) {
            if (f < 0) {
                throw new IllegalArgumentException("negative size " + f);
            }
            if (f == 0) {
                return 0;
            }
            if (!saturated) {
                long high = Math.multiplyHigh(p, f);
                long low = p * f;
                if (high != 0 || low < 0) {
                    saturated = true;
                } else {
                    p = low;
                }
            }
        }
        return saturated ? Long.MAX_VALUE : p;
    }

    private static long plus(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    /** Physical memory of this machine (or container), or Long.MAX_VALUE if the platform does not say. */
    static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long total = os.getTotalMemorySize();
            return total > 0 ? total : Long.MAX_VALUE;
        }
        return Long.MAX_VALUE;
    }

    /** "1.5 GiB", "954 GiB", "more than 8 EiB". */
    static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }
}
