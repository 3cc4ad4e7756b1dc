package dev.moe.routing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Argument checks shared by every backend, done in Java before any kernel runs. */
abstract class AbstractRouter implements Router {
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    protected final RoutingConfig config;

    AbstractRouter(RoutingConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public final RoutingConfig config() {
        return config;
    }

    @Override
    public final GateStats route(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                 MemorySegment outWeights, MemorySegment expertLoad) {
        int n = config.numExperts();
        int k = config.topk();
        if (numTokens < 0) {
            throw new IllegalArgumentException("number of tokens must be >= 0, got " + numTokens);
        }
        requireBytes(logits, "logits", Math.multiplyExact(Math.multiplyExact(numTokens, n), 4L), "[" + numTokens + ", " + n + "] float", false);
        requireBytes(outIds, "ids", Math.multiplyExact(Math.multiplyExact(numTokens, k), 4L), "[" + numTokens + ", " + k + "] int", true);
        requireBytes(outWeights, "weights", Math.multiplyExact(Math.multiplyExact(numTokens, k), 4L), "[" + numTokens + ", " + k + "] float", true);
        MemorySegment b = isAbsent(bias) ? null : bias;
        if (b != null) {
            requireBytes(b, "bias", 4L * n, "[" + n + "] float", false);
            for (int i = 0; i < n; i++) {
                float v = b.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("bias[" + i + "] is " + v + "; the selection bias must be finite");
                }
            }
        }
        MemorySegment load = isAbsent(expertLoad) ? null : expertLoad;
        if (load != null) {
            requireBytes(load, "expert load", 8L * n, "[" + n + "] long", true);
        }
        GateStats stats = numTokens == 0 ? new GateStats(0, 0) : doRoute(logits, numTokens, b, outIds, outWeights, load);
        if (stats.zeroSumRows() > 0) {
            LOG.warn("{} of {} tokens had all chosen scores underflow to 0; their weights are 0 (1e-20 guard, docs/specification.md §k #5)",
                    stats.zeroSumRows(), stats.tokens());
        }
        return stats;
    }

    @Override
    public final RoutingResult route(float[] logits, float[] bias) {
        int n = config.numExperts();
        if (logits.length % n != 0) {
            throw new IllegalArgumentException("logits length " + logits.length + " is not a multiple of N=" + n);
        }
        int t = logits.length / n;
        int[] ids = new int[Math.multiplyExact(t, config.topk())];
        float[] weights = new float[ids.length];
        long[] load = new long[n];
        GateStats stats = routeArrays(logits, bias, t, ids, weights, load);
        return new RoutingResult(t, config.topk(), ids, weights, load, stats);
    }

    /** Routes arrays through {@link #route(MemorySegment, long, MemorySegment, MemorySegment, MemorySegment, MemorySegment)}. */
    protected GateStats routeArrays(float[] logits, float[] bias, int numTokens, int[] ids, float[] weights, long[] load) {
        return route(MemorySegment.ofArray(logits), numTokens, bias == null ? null : MemorySegment.ofArray(bias),
                MemorySegment.ofArray(ids), MemorySegment.ofArray(weights), MemorySegment.ofArray(load));
    }

    /** Routes a validated, non-empty batch; bias and load are null when absent. */
    protected abstract GateStats doRoute(MemorySegment logits, long numTokens, MemorySegment bias, MemorySegment outIds,
                                         MemorySegment outWeights, MemorySegment expertLoad);

    static boolean isAbsent(MemorySegment s) {
        return s == null || s.equals(MemorySegment.NULL);
    }

    private static void requireBytes(MemorySegment s, String what, long bytes, String shape, boolean written) {
        if (s == null) {
            throw new IllegalArgumentException(what + " segment is null");
        }
        if (s.byteSize() != bytes) {
            throw new IllegalArgumentException(what + " must be " + shape + " (" + bytes + " bytes), got a segment of "
                    + s.byteSize() + " bytes");
        }
        if (written && s.isReadOnly()) {
            throw new IllegalArgumentException(what + " segment is read-only");
        }
    }
}
