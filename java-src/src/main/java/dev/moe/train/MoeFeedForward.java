package dev.moe.train;

import java.util.Arrays;

import dev.moe.loss.AuxLoss;
import dev.moe.loss.AuxLossResult;
import dev.moe.loss.AuxLosses;
import dev.moe.routing.Router;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;

/**
 * A DeepSeek-style MoE feed-forward in training: router logits z = u·Wgᵀ, the library's gate (scores,
 * selection bias, group limit, top-K, weights, fused load count), tokens permuted into expert order,
 * each routed expert's SwiGLU on its rows, the weighted combine in router order, plus the shared
 * expert on every token. Nothing is dropped; the group limit is checked on every call.
 *
 * <p>Backward: expert and shared-expert weights get their gradients from the products; the router
 * gets ∂L/∂z through the chosen experts' combine weights only ({@link GateGradient}) plus, when an
 * auxiliary loss is set, that loss's ∂L_aux/∂z. The auxiliary part of ∂L/∂Wg is also kept apart, so the
 * trainer can report the interference the auxiliary loss pushes into the router.
 */
final class MoeFeedForward {
    private final TransformerConfig c;
    private final RoutingConfig routing;
    private final Router router;
    private final Gemm gemm;
    private final Projections proj;

    /** What the forward saved for the backward, reused across steps of the same batch size. */
    static final class Saved {
        final float[] logits;
        RoutingResult route;
        final int[] offsets;
        final int[] rowOf;
        float[] xp = new float[0];
        float[] h13 = new float[0];
        float[] act = new float[0];
        float[] y = new float[0];
        final float[] sharedH13;
        final float[] sharedAct;
        float[] auxGrad;
        double auxValue;
        long groupsUsed;

        Saved(int tokens, TransformerConfig c) {
            logits = new float[tokens * c.experts()];
            offsets = new int[c.experts() + 1];
            rowOf = new int[tokens * c.topk()];
            sharedH13 = new float[tokens * 2 * c.sharedDim()];
            sharedAct = new float[tokens * c.sharedDim()];
        }

        void ensureRows(int rows, TransformerConfig c) {
            if (xp.length < rows * c.dim()) {
                xp = new float[rows * c.dim()];
                h13 = new float[rows * 2 * c.expertDim()];
                act = new float[rows * c.expertDim()];
                y = new float[rows * c.dim()];
            }
        }
    }

    MoeFeedForward(TransformerConfig c, Router router, Gemm gemm, Projections proj) {
        this.c = c;
        this.routing = c.routing();
        this.router = router;
        this.gemm = gemm;
        this.proj = proj;
    }

    /**
     * out = MoE(u).
     *
     * @param u         normalised input float [T, d]
     * @param tokens    T
     * @param p         parameters
     * @param b         the block's offsets
     * @param bias      selection bias float [N], or null
     * @param aux       auxiliary loss over each sequence of S tokens, or null
     * @param auxWeight multiplies the auxiliary loss and its gradient (local share of the global batch)
     * @param s         receives what the backward needs, the routing and the loads
     * @param out       receives float [T, d]
     */
    void forward(float[] u, int tokens, float[] p, ParameterLayout.Block b, float[] bias, AuxLoss aux, double auxWeight,
                 Saved s, float[] out) {
        route(u, tokens, p, b, bias, aux, auxWeight, s);
        experts(u, tokens, p, b, s, out);
    }

    /** The first half of {@link #forward}: router logits, the gate and the auxiliary loss. */
    void route(float[] u, int tokens, float[] p, ParameterLayout.Block b, float[] bias, AuxLoss aux, double auxWeight,
               Saved s) {
        int d = c.dim();
        int n = c.experts();
        gemm.gemm(false, true, tokens, n, d, u, 0, d, p, b.gate(), d, 0f, s.logits, 0, n);
        float[] z = tokens * n == s.logits.length ? s.logits : Arrays.copyOf(s.logits, tokens * n);
        s.route = router.route(z, bias);
        s.groupsUsed = checkGroupLimit(s.route, tokens);
        if (aux != null) {
            int seqs = tokens / c.seqLen();
            int[] lengths = new int[seqs];
            Arrays.fill(lengths, c.seqLen());
            AuxLossResult r = AuxLosses.meanOverSequences(aux, z, s.route, lengths);
            s.auxValue = r.value() * auxWeight;
            double[] g = r.gradLogits();
            s.auxGrad = new float[g.length];
            for (int i = 0; i < g.length; i++) {
                s.auxGrad[i] = (float) (g[i] * auxWeight);
            }
        } else {
            s.auxValue = 0;
            s.auxGrad = null;
        }
    }

    /** The second half of {@link #forward}: permutation, experts, combine, shared expert. */
    void experts(float[] u, int tokens, float[] p, ParameterLayout.Block b, Saved s, float[] out) {
        int d = c.dim();
        int n = c.experts();
        int k = c.topk();
        int width = c.expertDim();
        // Stable counting sort of the assignments by expert: row of (t, q).
        int[] ids = s.route.ids();
        Arrays.fill(s.offsets, 0);
        for (int i = 0; i < tokens * k; i++) {
            if (ids[i] >= 0) {
                s.offsets[ids[i] + 1]++;
            }
        }
        for (int e = 0; e < n; e++) {
            s.offsets[e + 1] += s.offsets[e];
        }
        int rows = s.offsets[n];
        s.ensureRows(rows, c);
        int[] next = Arrays.copyOf(s.offsets, n);
        for (int i = 0; i < tokens * k; i++) {
            int id = ids[i];
            if (id < 0) {
                s.rowOf[i] = -1;
                continue;
            }
            int row = next[id]++;
            s.rowOf[i] = row;
            System.arraycopy(u, (i / k) * d, s.xp, row * d, d);
        }
        proj.forwardGrouped(s.xp, s.offsets, d, p, b.w13(), 2 * width, s.h13);
        gemm.elementwise().swigluForward(s.h13, s.act, rows, width);
        proj.forwardGrouped(s.act, s.offsets, width, p, b.w2(), d, s.y);
        if (c.sharedDim() > 0) {
            int sw = c.sharedDim();
            proj.forward(u, 0, tokens, d, p, b.sharedW13(), 2 * sw, s.sharedH13, 0);
            gemm.elementwise().swigluForward(s.sharedH13, s.sharedAct, tokens, sw);
            proj.forward(s.sharedAct, 0, tokens, sw, p, b.sharedW2(), d, out, 0);
        } else {
            Arrays.fill(out, 0, tokens * d, 0f);
        }
        float[] w = s.route.weights();
        for (int t = 0; t < tokens; t++) {
            for (int q = 0; q < k; q++) {
                int row = s.rowOf[t * k + q];
                if (row >= 0) {
                    float g = w[t * k + q];
                    for (int j = 0; j < d; j++) {
                        out[t * d + j] += g * s.y[row * d + j];
                    }
                }
            }
        }
    }

    /**
     * Every token uses at most M groups (the node limit); a violation is a bug, never data.
     *
     * @return the groups used, summed over the tokens
     */
    private long checkGroupLimit(RoutingResult r, int tokens) {
        long total = 0;
        int k = c.topk();
        int groupSize = c.experts() / c.groups();
        int[] seen = new int[k];
        for (int t = 0; t < tokens; t++) {
            int used = 0;
            for (int q = 0; q < k; q++) {
                int id = r.ids()[t * k + q];
                if (id < 0) {
                    continue;
                }
                int g = id / groupSize;
                boolean fresh = true;
                for (int i = 0; i < used; i++) {
                    fresh &= seen[i] != g;
                }
                if (fresh) {
                    seen[used++] = g;
                }
            }
            if (used > c.topkGroups()) {
                throw new IllegalStateException("token " + t + " was routed to " + used + " groups, over the limit of "
                        + c.topkGroups());
            }
            total += used;
        }
        return total;
    }

    /**
     * Backward of {@link #forward}: du = ∂L/∂u (overwritten), parameter gradients accumulated.
     *
     * @param dout   ∂L/∂out float [T, d]
     * @param u      the forward's input
     * @param tokens T
     * @param p      parameters
     * @param grad   gradients
     * @param b      the block's offsets
     * @param s      what the forward saved
     * @param w      scratch
     * @param du     receives float [T, d]
     * @param auxGate accumulates the auxiliary loss's part of ∂L/∂Wg, float [N, d] at {@code auxOff} (also
     *               included in {@code grad}); may be null
     * @param auxOff  offset in {@code auxGate}
     */
    void backward(float[] dout, float[] u, int tokens, float[] p, float[] grad, ParameterLayout.Block b, Saved s,
                  Scratch w, float[] du, float[] auxGate, int auxOff) {
        backwardExperts(dout, u, tokens, p, grad, b, s, w, du);
        backwardRouter(u, tokens, p, grad, b, s, w, du, auxGate, auxOff);
    }

    /**
     * The first half of {@link #backward}: experts, shared expert and ∂L/∂w of the combine weights;
     * writes du without the router's part.
     */
    void backwardExperts(float[] dout, float[] u, int tokens, float[] p, float[] grad, ParameterLayout.Block b, Saved s,
                         Scratch w, float[] du) {
        int d = c.dim();
        int n = c.experts();
        int k = c.topk();
        int width = c.expertDim();
        int rows = s.offsets[n];
        w.ensureRows(rows, c);
        float[] weights = s.route.weights();
        for (int t = 0; t < tokens; t++) {
            for (int q = 0; q < k; q++) {
                int row = s.rowOf[t * k + q];
                if (row < 0) {
                    w.dWeights[t * k + q] = 0f;
                    continue;
                }
                double dot = 0;
                float g = weights[t * k + q];
                for (int j = 0; j < d; j++) {
                    float dy = dout[t * d + j];
                    dot += (double) dy * s.y[row * d + j];
                    w.dy[row * d + j] = g * dy;
                }
                w.dWeights[t * k + q] = (float) dot;
            }
        }
        // dW2_e += dy_eᵀ·act_e and dW13_e += dh13_eᵀ·xp_e, one batch over the experts each.
        GroupedBatch g2 = GroupedBatch.summedOverRows(s.offsets, d, width,
                (e, r0) -> new long[] {r0 * d, r0 * width, b.w2() + (long) e * d * width});
        gemm.gemmBatched(true, false, g2.dims(), g2.offsets(), w.dy, d, s.act, width, 1f, grad, width);
        proj.backwardInputGrouped(w.dy, s.offsets, d, p, b.w2(), width, w.dAct);
        gemm.elementwise().swigluBackward(w.dAct, s.h13, w.dH13, rows, width);
        GroupedBatch g13 = GroupedBatch.summedOverRows(s.offsets, 2 * width, d,
                (e, r0) -> new long[] {r0 * 2 * width, r0 * d, b.w13() + (long) e * 2 * width * d});
        gemm.gemmBatched(true, false, g13.dims(), g13.offsets(), w.dH13, 2 * width, s.xp, d, 1f, grad, d);
        proj.backwardInputGrouped(w.dH13, s.offsets, 2 * width, p, b.w13(), d, w.dxp);
        if (c.sharedDim() > 0) {
            int sw = c.sharedDim();
            gemm.gemm(true, false, d, sw, tokens, dout, 0, d, s.sharedAct, 0, sw, 1f, grad, b.sharedW2(), sw);
            proj.backwardInput(dout, 0, tokens, d, p, b.sharedW2(), sw, w.dSharedAct, 0);
            gemm.elementwise().swigluBackward(w.dSharedAct, s.sharedH13, w.dSharedH13, tokens, sw);
            gemm.gemm(true, false, 2 * sw, d, tokens, w.dSharedH13, 0, 2 * sw, u, 0, d, 1f, grad, b.sharedW13(), d);
            proj.backwardInput(w.dSharedH13, 0, tokens, 2 * sw, p, b.sharedW13(), d, du, 0);
        } else {
            Arrays.fill(du, 0, tokens * d, 0f);
        }
        for (int i = 0; i < tokens * k; i++) {
            int row = s.rowOf[i];
            if (row >= 0) {
                int t = i / k;
                for (int j = 0; j < d; j++) {
                    du[t * d + j] += w.dxp[row * d + j];
                }
            }
        }
    }

    /** The second half of {@link #backward}: the router's gradient, added to du. */
    void backwardRouter(float[] u, int tokens, float[] p, float[] grad, ParameterLayout.Block b, Saved s, Scratch w,
                        float[] du, float[] auxGate, int auxOff) {
        int d = c.dim();
        int n = c.experts();
        float[] weights = s.route.weights();
        // Router: ∂L/∂z through the combine weights, plus the auxiliary loss's part.
        float[] z = s.logits;
        GateGradient.logits(routing, z, s.route.ids(), weights, w.dWeights, tokens, w.dz);
        gemm.gemm(true, false, n, d, tokens, w.dz, 0, n, u, 0, d, 1f, grad, b.gate(), d);
        if (s.auxGrad != null) {
            gemm.gemm(true, false, n, d, tokens, s.auxGrad, 0, n, u, 0, d, 0f, w.gateGrad, 0, d);
            addInto(grad, b.gate(), w.gateGrad, n * d);
            if (auxGate != null) {
                addInto(auxGate, auxOff, w.gateGrad, n * d);
            }
            for (int i = 0; i < tokens * n; i++) {
                w.dz[i] += s.auxGrad[i];
            }
        }
        gemm.gemm(false, false, tokens, d, n, w.dz, 0, n, p, b.gate(), d, 1f, du, 0, d);
    }

    private static void addInto(float[] dst, int off, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            dst[off + i] += src[i];
        }
    }

    /** Scratch the backward needs, reused across steps. */
    static final class Scratch {
        final float[] dWeights;
        final float[] dz;
        final float[] gateGrad;
        final float[] dSharedAct;
        final float[] dSharedH13;
        float[] dy = new float[0];
        float[] dAct = new float[0];
        float[] dH13 = new float[0];
        float[] dxp = new float[0];

        Scratch(int tokens, TransformerConfig c) {
            dWeights = new float[tokens * c.topk()];
            dz = new float[tokens * c.experts()];
            gateGrad = new float[c.experts() * c.dim()];
            dSharedAct = new float[tokens * c.sharedDim()];
            dSharedH13 = new float[tokens * 2 * c.sharedDim()];
        }

        void ensureRows(int rows, TransformerConfig c) {
            if (dy.length < rows * c.dim()) {
                dy = new float[rows * c.dim()];
                dAct = new float[rows * c.expertDim()];
                dH13 = new float[rows * 2 * c.expertDim()];
                dxp = new float[rows * c.dim()];
            }
        }
    }
}
