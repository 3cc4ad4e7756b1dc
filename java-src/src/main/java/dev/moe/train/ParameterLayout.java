package dev.moe.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each named weight tensor of a {@link TransformerConfig} lives in one flat float array, so that
 * the optimizer, gradient clipping, the all-reduce and checkpoints treat all parameters as one vector.
 *
 * <p>Names (l = block index): {@code embed} [256, d]; per block {@code layers.l.attn_norm} [d],
 * {@code layers.l.attn.wqkv} [3d, d] (q, k, v stacked), {@code layers.l.attn.wo} [d, d],
 * {@code layers.l.ffn_norm} [d], {@code layers.l.ffn.gate} [N, d],
 * {@code layers.l.ffn.experts.w13} [N, 2I, d] (w1 over w3), {@code layers.l.ffn.experts.w2} [N, d, I],
 * and with shared experts {@code layers.l.ffn.shared.w13} [2S, d], {@code layers.l.ffn.shared.w2} [d, S]
 * (S = shared·I); then {@code norm} [d] and {@code head} [256, d]. Matrices are [out, in], row-major.
 */
public final class ParameterLayout {
    /**
     * One tensor.
     *
     * @param name   its name
     * @param offset first element in the flat array
     * @param shape  its dimensions
     * @param decay  whether AdamW's weight decay applies (matrices yes, norm gains no)
     */
    public record Tensor(String name, int offset, int[] shape, boolean decay) {
        /** {@return the number of elements} */
        public int size() {
            int n = 1;
            for (int s : shape) {
                n *= s;
            }
            return n;
        }
    }

    /**
     * Offsets of one block's tensors.
     *
     * @param attnNorm  attention RMSNorm gain [d]
     * @param wqkv      [3d, d]
     * @param wo        [d, d]
     * @param ffnNorm   feed-forward RMSNorm gain [d]
     * @param gate      router weights [N, d]
     * @param w13       routed experts [N, 2I, d]
     * @param w2        routed experts [N, d, I]
     * @param sharedW13 shared expert [2S, d], or -1
     * @param sharedW2  shared expert [d, S], or -1
     */
    public record Block(int attnNorm, int wqkv, int wo, int ffnNorm, int gate, int w13, int w2, int sharedW13, int sharedW2) {}

    private final List<Tensor> tensors = new ArrayList<>();
    private final Map<String, Tensor> byName = new LinkedHashMap<>();
    private final List<Block> blocks = new ArrayList<>();
    private final int embed;
    private final int norm;
    private final int head;
    private int size;

    /**
     * The layout of a configuration's parameters.
     *
     * @param c the model shape
     */
    public ParameterLayout(TransformerConfig c) {
        int d = c.dim();
        int i = c.expertDim();
        int s = c.sharedDim();
        int n = c.experts();
        embed = add("embed", true, TransformerConfig.VOCAB, d);
        for (int l = 0; l < c.layers(); l++) {
            String p = "layers." + l + ".";
            int attnNorm = add(p + "attn_norm", false, d);
            int wqkv = add(p + "attn.wqkv", true, 3 * d, d);
            int wo = add(p + "attn.wo", true, d, d);
            int ffnNorm = add(p + "ffn_norm", false, d);
            int gate = add(p + "ffn.gate", true, n, d);
            int w13 = add(p + "ffn.experts.w13", true, n, 2 * i, d);
            int w2 = add(p + "ffn.experts.w2", true, n, d, i);
            int sw13 = s > 0 ? add(p + "ffn.shared.w13", true, 2 * s, d) : -1;
            int sw2 = s > 0 ? add(p + "ffn.shared.w2", true, d, s) : -1;
            blocks.add(new Block(attnNorm, wqkv, wo, ffnNorm, gate, w13, w2, sw13, sw2));
        }
        norm = add("norm", false, d);
        head = add("head", true, TransformerConfig.VOCAB, d);
    }

    private int add(String name, boolean decay, int... shape) {
        Tensor t = new Tensor(name, size, shape, decay);
        tensors.add(t);
        byName.put(name, t);
        size = Math.addExact(size, t.size());
        return t.offset();
    }

    /** {@return the total number of parameters} */
    public int size() {
        return size;
    }

    /** {@return every tensor, in layout order} */
    public List<Tensor> tensors() {
        return Collections.unmodifiableList(tensors);
    }

    /**
     * The tensor of that name.
     *
     * @param name a name from the class comment
     * @return the tensor
     * @throws IllegalArgumentException if there is none
     */
    public Tensor tensor(String name) {
        Tensor t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return t;
    }

    /**
     * One block's offsets.
     *
     * @param layer the block index
     * @return its offsets
     */
    public Block block(int layer) {
        return blocks.get(layer);
    }

    /** {@return the offset of the embedding [256, d]} */
    public int embed() {
        return embed;
    }

    /** {@return the offset of the final RMSNorm gain [d]} */
    public int norm() {
        return norm;
    }

    /** {@return the offset of the output head [256, d]} */
    public int head() {
        return head;
    }
}
