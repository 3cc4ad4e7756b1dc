package dev.moe.layer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.moe.backend.Backend;
import dev.moe.dist.Communicator;
import dev.moe.dist.CommunicatorException;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.math.Bf16;
import dev.moe.routing.RoutingResult;
import dev.moe.topology.Topology;

/**
 * The MoE layer with its routed experts spread over the ranks of a {@link Communicator} (expert
 * parallelism, docs/specification.md §d.2): rank r plays GPU r of the {@link Topology}, which says which rank holds
 * each expert and which ranks form a node. Every rank routes its own tokens and gets their outputs back
 * in its own token order; every call is collective.
 *
 * <p>Data path, as DeepSeek-V3 dispatches: the token's activations are quantised once to FP8 (1×128
 * tiles, codes + FP32 scales). <b>Dispatch</b> sends one copy per destination node, to the rank with
 * the sender's in-node index there (the inter-node hop), and that rank fans the copy out to the ranks
 * of its node that hold the token's experts (the intra-node hop). Each rank runs its experts on what
 * it received (grouped FP8 GEMMs, SwiGLU). <b>Combine</b> runs the same two hops backwards:
 * <ul>
 *   <li>{@link Combine#EXACT}: every expert output row comes back in FP32 and the origin sums them in
 *       the router's order, exactly like {@link MoeLayer}: the output equals the single-process layer
 *       bit for bit (the reference mode);</li>
 *   <li>{@link Combine#REDUCED_FP32} / {@link Combine#REDUCED_BF16}: expert ranks send one gate-weighted
 *       partial sum per token copy, the forwarding rank sums its node's partials, and one row per node
 *       crosses the inter-node hop (docs/specification.md §i.4: combine in BF16); equal to the single-process output up
 *       to summation order (and BF16 rounding).</li>
 * </ul>
 * The shared expert runs on the token's own rank. Each forward checks token conservation: every
 * routed assignment is computed exactly once and every result returns to its slot, or it throws.
 * Expert weights are held in full on every rank (only the local experts are used).
 */
public final class ExpertParallelMoeLayer {
    /**
     * How expert outputs travel back (see the class comment): {@code EXACT} returns every expert row in
     * FP32; {@code REDUCED_FP32} and {@code REDUCED_BF16} return one partial sum per token copy and node,
     * in FP32 or BF16.
     */
    public enum Combine { /** Exact FP32 rows. */ EXACT, /** Per-node sums in FP32. */ REDUCED_FP32, /** Per-node sums in BF16. */ REDUCED_BF16 }

    /**
     * What one forward moved, from this rank's point of view (self-sends excluded).
     *
     * @param tokens                 tokens routed on this rank
     * @param assignmentsRouted      token-expert assignments of those tokens (dropped ones excluded)
     * @param assignmentsComputed    assignments this rank's experts computed (for any rank's tokens)
     * @param dispatchCopiesInterNode token copies this rank sent to another node
     * @param dispatchCopiesIntraNode token copies this rank forwarded to another rank of its node
     * @param dispatchBytesInterNode  dispatch bytes sent to other nodes
     * @param dispatchBytesIntraNode  dispatch bytes sent to other ranks of this node
     * @param combineBytesInterNode   combine bytes sent to other nodes
     * @param combineBytesIntraNode   combine bytes sent to other ranks of this node
     */
    public record Traffic(long tokens, long assignmentsRouted, long assignmentsComputed, long dispatchCopiesInterNode,
                          long dispatchCopiesIntraNode, long dispatchBytesInterNode, long dispatchBytesIntraNode,
                          long combineBytesInterNode, long combineBytesIntraNode) {
        /** {@return the nine counters as a vector in component order, for all-reducing over ranks} */
        public long[] toArray() {
            return new long[] {tokens, assignmentsRouted, assignmentsComputed, dispatchCopiesInterNode, dispatchCopiesIntraNode,
                dispatchBytesInterNode, dispatchBytesIntraNode, combineBytesInterNode, combineBytesIntraNode};
        }

        /**
         * The inverse of {@link #toArray()}.
         *
         * @param v the nine counters in component order
         * @return the traffic record
         */
        public static Traffic fromArray(long[] v) {
            return new Traffic(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
        }
    }

    /**
     * The output, the routing behind it, and what the forward moved.
     *
     * @param hidden  y float [T, H] of this rank's tokens, row-major
     * @param routing the gate's choice for this rank's tokens
     * @param traffic what this rank sent and computed
     */
    public record Output(float[] hidden, RoutingResult routing, Traffic traffic) {}

    private final MoeLayer layer;
    private final Communicator comm;
    private final Topology placement;
    private final Combine combine;
    private final int hidden;
    private final int scaleCount;
    private final int rowBytes;

    private ExpertParallelMoeLayer(MoeLayer layer, Communicator comm, Topology placement, Combine combine) {
        this.layer = layer;
        this.comm = comm;
        this.placement = placement;
        this.combine = combine;
        this.hidden = layer.weights().hidden();
        this.scaleCount = (int) Fp8Block.ROW_1X128.scaleCount(1, hidden);
        this.rowBytes = hidden + 4 * scaleCount;
    }

    /**
     * A layer whose experts sit on the ranks of {@code comm} as {@code placement} places them on GPUs
     * (one rank per GPU: {@code placement.gpus()} must equal the number of ranks). Not collective.
     *
     * @param weights   the full layer's weights (the same on every rank)
     * @param backend   the backend for the local gate, quantisation and GEMMs
     * @param comm      the process group, one rank per GPU of {@code placement}
     * @param placement which GPU (rank) holds each expert, and which ranks form a node
     * @param combine   how expert outputs travel back
     * @return the layer
     * @throws IllegalArgumentException if the placement's GPU count differs from the number of ranks or
     *         its expert count from the layer's
     * @throws dev.moe.backend.BackendUnavailableException if a backend named explicitly cannot run here
     */
    public static ExpertParallelMoeLayer create(MoeLayerWeights weights, Backend backend, Communicator comm, Topology placement,
                                                Combine combine) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(comm, "comm");
        Objects.requireNonNull(combine, "combine");
        if (placement.gpus() != comm.size()) {
            throw new IllegalArgumentException("the placement has " + placement.nodes() + " x " + placement.gpusPerNode() + " = "
                    + placement.gpus() + " GPUs but the job has " + comm.size() + " ranks (one rank per GPU)");
        }
        if (placement.numExperts() != weights.config().numExperts()) {
            throw new IllegalArgumentException("the placement places " + placement.numExperts() + " experts but the layer has "
                    + weights.config().numExperts());
        }
        return new ExpertParallelMoeLayer(MoeLayer.create(weights, backend), comm, placement, combine);
    }

    /** {@return the concrete backend of the local computation} */
    public Backend backend() {
        return layer.backend();
    }

    /** {@return where the experts live} */
    public Topology placement() {
        return placement;
    }

    /**
     * Runs the layer on this rank's tokens. Collective: every rank of the group must call it, in the
     * same order as its other collectives.
     *
     * @param x      float [T, H] of this rank, row-major, every value finite
     * @param tokens T, which may differ between ranks, and be 0
     * @return y float [T, H] in this rank's token order, the routing and the traffic
     * @throws IllegalArgumentException if {@code x} is not [T, H] or holds a non-finite value
     * @throws CommunicatorException if a collective fails or token conservation is broken
     */
    public Output forward(float[] x, int tokens) {
        layer.checkInput(x, tokens);
        RoutingResult routing = layer.route(x, tokens);
        QuantizedTensor xq = layer.quantizeRows(x, tokens, hidden);
        Counter traffic = new Counter();
        ToNodes toNodes = dispatchToNodes(routing, xq, traffic);
        ToExperts toExperts = dispatchWithinNode(toNodes.received(), traffic);
        ExpertRows experts = runExperts(toExperts.received());
        float[][] slotRows = combineToForwarders(toExperts, experts, traffic);
        Communicator.Received back = combineToOrigins(toNodes.received(), toExperts.copies(), slotRows, traffic);
        float[] out = combineInRouterOrder(routing, toNodes.sent(), back);
        layer.addSharedExpert(x, tokens, out);
        Traffic tr = new Traffic(tokens, toNodes.routed(), experts.rows(), traffic.copiesInter, traffic.copiesIntra,
                traffic.dispatchInter, traffic.dispatchIntra, traffic.combineInter, traffic.combineIntra);
        return new Output(out, routing, tr);
    }

    /**
     * Dispatch, hop 1, as sent and received by this rank.
     *
     * @param sent     per destination rank: {token, slots} of each copy, in the order sent (the combine returns in it)
     * @param received the copies other ranks sent to this one
     * @param routed   the token-expert assignments of this rank's tokens
     */
    private record ToNodes(List<List<int[]>> sent, Communicator.Received received, long routed) {}

    /**
     * Dispatch, hop 2, as forwarded and received by this rank.
     *
     * @param copies   the copies this rank forwarded (hop 1's arrivals)
     * @param sent     per destination rank: {copy index, slot index in the copy, ...} of each piece forwarded
     * @param received the pieces this rank's experts got
     */
    private record ToExperts(List<Copy> copies, List<List<int[]>> sent, Communicator.Received received) {}

    /**
     * This rank's experts on what reached them.
     *
     * @param copies the pieces received, in arrival order
     * @param rowOf  per piece and slot: its row in {@code y}
     * @param rows   the assignments computed
     * @param y      float [rows, H] in expert order
     */
    private record ExpertRows(List<Copy> copies, int[][] rowOf, int rows, float[] y) {}

    /** Dispatch, hop 1: one copy per (token, destination node) to the rank with this rank's in-node index there. */
    private ToNodes dispatchToNodes(RoutingResult routing, QuantizedTensor xq, Counter traffic) {
        int k = routing.topk();
        int[] ids = routing.ids();
        float[] gates = routing.weights();
        int perNode = placement.gpusPerNode();
        int lane = comm.rank() % perNode;
        List<List<int[]>> sent1 = newLists(comm.size());
        Writer[] out1 = writers(comm.size());
        long routed = 0;
        for (int t = 0; t < routing.numTokens(); t++) {
            for (int node = 0; node < placement.nodes(); node++) {
                int count = 0;
                for (int q = 0; q < k; q++) {
                    int e = ids[t * k + q];
                    if (e >= 0 && placement.nodeOf(e) == node) {
                        count++;
                    }
                }
                if (count == 0) {
                    continue;
                }
                int[] slots = new int[count];
                int c = 0;
                for (int q = 0; q < k; q++) {
                    int e = ids[t * k + q];
                    if (e >= 0 && placement.nodeOf(e) == node) {
                        slots[c++] = q;
                    }
                }
                routed += count;
                int dest = node * perNode + lane;
                sent1.get(dest).add(new int[] {t, count});
                Writer w = out1[dest];
                w.putInt(count);
                for (int q : slots) {
                    w.putInt(q);
                    w.putInt(ids[t * k + q]);
                    w.putFloat(gates[t * k + q]);
                }
                w.putRow(xq, t);
            }
        }
        return new ToNodes(sent1, exchange(out1, traffic, true), routed);
    }

    /** Dispatch, hop 2: the forwarding rank splits each copy by the rank of its node holding each expert. */
    private ToExperts dispatchWithinNode(Communicator.Received in1, Counter traffic) {
        int perNode = placement.gpusPerNode();
        int myNode = placement.nodeOfGpu(comm.rank());
        List<Copy> copies1 = readCopies(in1, true);
        List<List<int[]>> sent2 = newLists(comm.size());
        Writer[] out2 = writers(comm.size());
        for (int ci = 0; ci < copies1.size(); ci++) {
            Copy copy = copies1.get(ci);
            for (int dest = myNode * perNode; dest < (myNode + 1) * perNode; dest++) {
                int count = 0;
                for (int s = 0; s < copy.experts.length; s++) {
                    count += placement.gpuOf(copy.experts[s]) == dest ? 1 : 0;
                }
                if (count == 0) {
                    continue;
                }
                int[] entry = new int[1 + count];
                entry[0] = ci;
                Writer w = out2[dest];
                w.putInt(count);
                int c = 1;
                for (int s = 0; s < copy.experts.length; s++) {
                    if (placement.gpuOf(copy.experts[s]) == dest) {
                        entry[c++] = s;
                        w.putInt(0);  // slot number: unused after hop 1, kept so both hops share one format
                        w.putInt(copy.experts[s]);
                        w.putFloat(copy.gates[s]);
                    }
                }
                w.putRow(copy.codes, copy.scales);
                sent2.get(dest).add(entry);
            }
        }
        return new ToExperts(copies1, sent2, exchange(out2, traffic, true));
    }

    /** The experts: every assignment received, in expert order, through this rank's experts. */
    private ExpertRows runExperts(Communicator.Received in2) {
        int me = comm.rank();
        List<Copy> copies2 = readCopies(in2, false);
        int n = layer.weights().config().numExperts();
        int[] offsets = new int[n + 1];
        for (Copy c : copies2) {
            for (int e : c.experts) {
                if (placement.gpuOf(e) != me) {
                    throw new CommunicatorException("rank " + me + " received a token for expert " + e + ", which lives on rank "
                            + placement.gpuOf(e));
                }
                offsets[e + 1]++;
            }
        }
        for (int e = 0; e < n; e++) {
            offsets[e + 1] += offsets[e];
        }
        int rows = offsets[n];
        int[] next = offsets.clone();
        int[][] rowOf = new int[copies2.size()][];
        byte[] codes = new byte[rows * hidden];
        float[] scales = new float[rows * scaleCount];
        for (int ci = 0; ci < copies2.size(); ci++) {
            Copy c = copies2.get(ci);
            rowOf[ci] = new int[c.experts.length];
            for (int s = 0; s < c.experts.length; s++) {
                int row = next[c.experts[s]]++;
                rowOf[ci][s] = row;
                System.arraycopy(c.codes, 0, codes, row * hidden, hidden);
                System.arraycopy(c.scales, 0, scales, row * scaleCount, scaleCount);
            }
        }
        float[] y = rows == 0 ? new float[0]
                : layer.expertRows(new QuantizedTensor(rows, hidden, Fp8Block.ROW_1X128, false, codes, scales), offsets);
        return new ExpertRows(copies2, rowOf, rows, y);
    }

    /**
     * Combine, hop 2 backwards: expert rank to forwarding rank, in the order the pieces came; returns, per
     * copy the forwarding rank received, its slots' rows (EXACT: [slot * H]) or its node's partial sum.
     */
    private float[][] combineToForwarders(ToExperts hop2, ExpertRows experts, Counter traffic) {
        int ranks = comm.size();
        Communicator.Received in2 = hop2.received();
        List<Copy> copies2 = experts.copies();
        Writer[] back2 = writers(ranks);
        int ci2 = 0;
        for (int src = 0; src < ranks; src++) {
            int end = ci2 + countFrom(in2, copies2, src, ci2);
            for (; ci2 < end; ci2++) {
                Copy c = copies2.get(ci2);
                if (combine == Combine.EXACT) {
                    for (int s = 0; s < c.experts.length; s++) {
                        back2[src].putFloats(experts.y(), experts.rowOf()[ci2][s] * hidden, hidden);
                    }
                } else {
                    float[] acc = new float[hidden];
                    for (int s = 0; s < c.experts.length; s++) {
                        addScaled(acc, 0, c.gates[s], experts.y(), experts.rowOf()[ci2][s] * hidden);
                    }
                    putCombined(back2[src], acc, 0);
                }
            }
        }
        Communicator.Received ret2 = exchange(back2, traffic, false);
        List<Copy> copies1 = hop2.copies();
        float[][] slotRows = new float[copies1.size()][];  // EXACT: [slot * H], REDUCED: the node's partial sum
        for (int ci = 0; ci < copies1.size(); ci++) {
            Copy c = copies1.get(ci);
            slotRows[ci] = new float[(combine == Combine.EXACT ? c.experts.length : 1) * hidden];
        }
        Reader[] fromRank = readers(ret2);
        for (int dest = 0; dest < ranks; dest++) {
            for (int[] entry : hop2.sent().get(dest)) {
                float[] target = slotRows[entry[0]];
                if (combine == Combine.EXACT) {
                    for (int j = 1; j < entry.length; j++) {
                        fromRank[dest].getFloats(target, entry[j] * hidden, hidden);
                    }
                } else {
                    // Partials of the node's ranks summed in rank order (deterministic).
                    float[] part = new float[hidden];
                    getCombined(fromRank[dest], part);
                    for (int h = 0; h < hidden; h++) {
                        target[h] += part[h];
                    }
                }
            }
        }
        checkConsumed(fromRank, "combine hop 2");
        return slotRows;
    }

    /** Combine, hop 1 backwards: the forwarding rank returns each copy's results to the token's rank. */
    private Communicator.Received combineToOrigins(Communicator.Received in1, List<Copy> copies1, float[][] slotRows, Counter traffic) {
        Writer[] back1 = writers(comm.size());
        int ci1 = 0;
        for (int src = 0; src < comm.size(); src++) {
            int end = ci1 + countFrom(in1, copies1, src, ci1);
            for (; ci1 < end; ci1++) {
                if (combine == Combine.EXACT) {
                    back1[src].putFloats(slotRows[ci1], 0, slotRows[ci1].length);
                } else {
                    putCombined(back1[src], slotRows[ci1], 0);
                }
            }
        }
        return exchange(back1, traffic, false);
    }

    /**
     * The token's rank: results into their slots (checking token conservation), then the combine in the
     * router's order.
     */
    private float[] combineInRouterOrder(RoutingResult routing, List<List<int[]>> sent1, Communicator.Received ret1) {
        int tokens = routing.numTokens();
        int k = routing.topk();
        int[] ids = routing.ids();
        float[] gates = routing.weights();
        int me = comm.rank();
        int perNode = placement.gpusPerNode();
        int lane = me % perNode;
        float[] out = new float[tokens * hidden];
        Reader[] fromForwarder = readers(ret1);
        int[] filled = new int[tokens * k];
        float[] ys = combine == Combine.EXACT ? new float[tokens * k * hidden] : null;
        float[][] nodeParts = combine == Combine.EXACT ? null : new float[tokens][];
        // Copies went out token by token, nodes ascending; per forwarder the answers come back in that order.
        int[] cursor = new int[comm.size()];
        for (int t = 0; t < tokens; t++) {
            for (int node = 0; node < placement.nodes(); node++) {
                int dest = node * perNode + lane;
                List<int[]> list = sent1.get(dest);
                if (cursor[dest] >= list.size() || list.get(cursor[dest])[0] != t) {
                    continue;
                }
                int count = list.get(cursor[dest])[1];
                cursor[dest]++;
                if (combine == Combine.EXACT) {
                    for (int q = 0, got = 0; q < k && got < count; q++) {
                        int e = ids[t * k + q];
                        if (e >= 0 && placement.nodeOf(e) == node) {
                            fromForwarder[dest].getFloats(ys, (t * k + q) * hidden, hidden);
                            filled[t * k + q]++;
                            got++;
                        }
                    }
                } else {
                    float[] part = new float[hidden];
                    getCombined(fromForwarder[dest], part);
                    for (int q = 0; q < k; q++) {
                        int e = ids[t * k + q];
                        if (e >= 0 && placement.nodeOf(e) == node) {
                            filled[t * k + q]++;
                        }
                    }
                    if (nodeParts[t] == null) {
                        nodeParts[t] = part;
                    } else {
                        for (int h = 0; h < hidden; h++) {
                            nodeParts[t][h] += part[h];
                        }
                    }
                }
            }
        }
        checkConsumed(fromForwarder, "combine hop 1");
        for (int t = 0; t < tokens; t++) {
            for (int q = 0; q < k; q++) {
                int want = ids[t * k + q] >= 0 ? 1 : 0;
                if (filled[t * k + q] != want) {
                    throw new CommunicatorException("token conservation broken on rank " + me + ": token " + t + " slot " + q
                            + " got " + filled[t * k + q] + " results, expected " + want);
                }
            }
            if (combine == Combine.EXACT) {
                // As MoeLayer: FP32, choices in the router's order.
                for (int q = 0; q < k; q++) {
                    if (ids[t * k + q] >= 0) {
                        addScaled(out, t * hidden, gates[t * k + q], ys, (t * k + q) * hidden);
                    }
                }
            } else if (nodeParts[t] != null) {
                System.arraycopy(nodeParts[t], 0, out, t * hidden, hidden);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------
    // Wire format: little-endian. A token copy = int count, count × (int slot, int expert, float gate),
    // H code bytes, ceil(H/128) float scales. A combine row = H floats (FP32) or H shorts (BF16).

    private record Copy(int[] experts, float[] gates, byte[] codes, float[] scales) {}

    private List<Copy> readCopies(Communicator.Received in, boolean firstHop) {
        List<Copy> copies = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(in.data()).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int count = b.getInt();
            if (count < 1 || count > 1024) {
                throw new CommunicatorException("corrupt token copy on rank " + comm.rank() + " (" + count + " slots)");
            }
            int[] experts = new int[count];
            float[] g = new float[count];
            for (int s = 0; s < count; s++) {
                b.getInt();
                experts[s] = b.getInt();
                g[s] = b.getFloat();
            }
            byte[] codes = new byte[hidden];
            b.get(codes);
            float[] sc = new float[scaleCount];
            b.asFloatBuffer().get(sc);
            b.position(b.position() + 4 * scaleCount);
            copies.add(new Copy(experts, g, codes, sc));
        }
        return copies;
    }

    /** Copies in {@code copies} from source rank {@code src}, starting at index {@code from} (the data is in rank order). */
    private int countFrom(Communicator.Received in, List<Copy> copies, int src, int from) {
        int bytes = in.counts()[src];
        int n = 0;
        for (int i = from; i < copies.size() && bytes > 0; i++) {
            bytes -= 4 + 12 * copies.get(i).experts.length + rowBytes;
            n++;
        }
        if (bytes != 0) {
            throw new CommunicatorException("corrupt dispatch from rank " + src + " on rank " + comm.rank());
        }
        return n;
    }

    private void putCombined(Writer w, float[] v, int off) {
        if (combine == Combine.REDUCED_BF16) {
            for (int h = 0; h < hidden; h++) {
                w.putShort(Bf16.encode(v[off + h]));
            }
        } else {
            w.putFloats(v, off, hidden);
        }
    }

    private void getCombined(Reader r, float[] into) {
        if (combine == Combine.REDUCED_BF16) {
            for (int h = 0; h < hidden; h++) {
                into[h] = Bf16.decode(r.b.getShort());
            }
        } else {
            r.getFloats(into, 0, hidden);
        }
    }

    /** acc[at ..] += g · y[from ..] over one row of H (FP32, no fma: as MoeLayer's combine). */
    private void addScaled(float[] acc, int at, float g, float[] y, int from) {
        for (int h = 0; h < hidden; h++) {
            acc[at + h] += g * y[from + h];
        }
    }

    /** All-to-all-v of the writers' bytes; counts what left for other ranks, by hop and node. */
    private Communicator.Received exchange(Writer[] out, Counter c, boolean dispatch) {
        int ranks = out.length;
        int[] counts = new int[ranks];
        int total = 0;
        for (int r = 0; r < ranks; r++) {
            counts[r] = out[r].size();
            total += counts[r];
        }
        byte[] send = new byte[total];
        int at = 0;
        int me = comm.rank();
        for (int r = 0; r < ranks; r++) {
            System.arraycopy(out[r].bytes(), 0, send, at, counts[r]);
            at += counts[r];
            if (r == me) {
                continue;
            }
            boolean sameNode = placement.nodeOfGpu(r) == placement.nodeOfGpu(me);
            if (dispatch) {
                if (sameNode) {
                    c.dispatchIntra += counts[r];
                    c.copiesIntra += out[r].copies;
                } else {
                    c.dispatchInter += counts[r];
                    c.copiesInter += out[r].copies;
                }
            } else if (sameNode) {
                c.combineIntra += counts[r];
            } else {
                c.combineInter += counts[r];
            }
        }
        return comm.allToAllV(send, counts);
    }

    private static final class Counter {
        long dispatchInter;
        long dispatchIntra;
        long combineInter;
        long combineIntra;
        long copiesInter;
        long copiesIntra;
    }

    private static <T> List<List<T>> newLists(int n) {
        List<List<T>> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add(new ArrayList<>());
        }
        return l;
    }

    private Writer[] writers(int n) {
        Writer[] w = new Writer[n];
        for (int i = 0; i < n; i++) {
            w[i] = new Writer();
        }
        return w;
    }

    private Reader[] readers(Communicator.Received in) {
        Reader[] r = new Reader[in.counts().length];
        for (int i = 0; i < r.length; i++) {
            r[i] = new Reader(ByteBuffer.wrap(in.data(), in.offset(i), in.counts()[i]).slice().order(ByteOrder.LITTLE_ENDIAN));
        }
        return r;
    }

    private void checkConsumed(Reader[] rs, String what) {
        for (int i = 0; i < rs.length; i++) {
            if (rs[i].b.hasRemaining()) {
                throw new CommunicatorException(what + ": rank " + i + " sent " + rs[i].b.remaining() + " bytes more than rank "
                        + comm.rank() + " expected");
            }
        }
    }

    /** A growable little-endian byte buffer. */
    private final class Writer {
        private ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        int copies;

        private void room(int bytes) {
            if (b.remaining() < bytes) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + bytes)).order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        void putInt(int v) {
            room(4);
            b.putInt(v);
        }

        void putFloat(float v) {
            room(4);
            b.putFloat(v);
        }

        void putShort(short v) {
            room(2);
            b.putShort(v);
        }

        void putFloats(float[] v, int off, int len) {
            room(4 * len);
            b.asFloatBuffer().put(v, off, len);
            b.position(b.position() + 4 * len);
        }

        void putRow(QuantizedTensor q, int row) {
            room(rowBytes);
            b.put(q.codes(), row * hidden, hidden);
            b.asFloatBuffer().put(q.scales(), row * scaleCount, scaleCount);
            b.position(b.position() + 4 * scaleCount);
            copies++;
        }

        void putRow(byte[] codes, float[] scales) {
            room(rowBytes);
            b.put(codes);
            b.asFloatBuffer().put(scales);
            b.position(b.position() + 4 * scaleCount);
            copies++;
        }

        int size() {
            return b.position();
        }

        byte[] bytes() {
            return b.array();
        }
    }

    private static final class Reader {
        final ByteBuffer b;

        Reader(ByteBuffer b) {
            this.b = b;
        }

        void getFloats(float[] into, int off, int len) {
            if (b.remaining() < 4 * len) {
                throw new CommunicatorException("combine: " + b.remaining() + " bytes left where a row of " + len + " floats was due");
            }
            b.asFloatBuffer().get(into, off, len);
            b.position(b.position() + 4 * len);
        }
    }
}
