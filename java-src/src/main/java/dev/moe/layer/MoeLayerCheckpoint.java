package dev.moe.layer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.moe.fp8.E4m3;
import dev.moe.fp8.BlockQuantizer;
import dev.moe.fp8.ExpertWeights;
import dev.moe.fp8.Fp8Block;
import dev.moe.fp8.QuantizedTensor;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsDType;
import dev.moe.safetensors.SafetensorsTensor;
import dev.moe.safetensors.SafetensorsWriter;
import dev.moe.safetensors.TensorSource;

/**
 * One MoE layer in DeepSeek-V3's checkpoint layout (Hugging Face names, FP8 weights with
 * {@code weight_scale_inv} multipliers per 128×128 block):
 * <pre>
 * model.layers.L.mlp.gate.weight                       BF16 or F32 [N, H]
 * model.layers.L.mlp.gate.e_score_correction_bias      F32 [N]            (optional)
 * model.layers.L.mlp.experts.E.{gate,up}_proj.weight   F8_E4M3 [I, H] + .weight_scale_inv F32 [ceil(I/128), ceil(H/128)]
 * model.layers.L.mlp.experts.E.down_proj.weight        F8_E4M3 [H, I] + .weight_scale_inv
 * model.layers.L.mlp.shared_experts.{gate,up,down}_proj.weight (+ .weight_scale_inv)  (optional)
 * </pre>
 * An expert matrix stored unquantised (BF16, F16 or F32, no {@code weight_scale_inv}: how DeepSeek-V2
 * ships) is quantised to FP8 in 128×128 blocks as it is read. The tensors may come from one file or from
 * the shards of a Hugging Face checkpoint directory ({@link DeepSeekCheckpoint}).
 */
public final class MoeLayerCheckpoint {
    private MoeLayerCheckpoint() {}

    private static String prefix(int layer) {
        return "model.layers." + layer + ".mlp.";
    }

    /**
     * Reads layer {@code layer} from {@code file}; N, H and I come from the tensors and must fit
     * {@code config}. The weights are copied to the heap, so the file may be closed afterwards.
     *
     * @param file   an open checkpoint: a safetensors file or a sharded one
     * @param layer  the layer index L in the tensor names
     * @param config the routing configuration the layer is used with
     * @return the layer's weights
     * @throws IllegalArgumentException naming the tensor, if a tensor is missing or has the wrong dtype or
     *         shape, N differs from the configuration, the router weight or bias holds a NaN or infinity, an
     *         expert weight holds an E4M3 NaN code (0x7F, 0xFF), a {@code weight_scale_inv} is NaN, infinite
     *         or negative, or the weights do not form a valid layer
     * @throws IllegalStateException if the file was truncated after it was opened
     */
    public static MoeLayerWeights load(TensorSource file, int layer, RoutingConfig config) {
        String p = prefix(layer);
        SafetensorsTensor gate = file.tensor(p + "gate.weight");
        if (gate.shape().length != 2 || (gate.dtype() != SafetensorsDType.BF16 && gate.dtype() != SafetensorsDType.F32)) {
            throw new IllegalArgumentException("tensor '" + gate.name() + "': expected BF16 or F32 [N, H], got " + gate.dtype() + " "
                    + gate.shapeString());
        }
        int n = Math.toIntExact(gate.dim(0));
        int h = Math.toIntExact(gate.dim(1));
        if (n != config.numExperts()) {
            throw new IllegalArgumentException("tensor '" + gate.name() + "' has N = " + n + " experts, the routing config "
                    + config.numExperts());
        }
        float[] gateWeight = requireFinite(gate.name(), gate.toFloatArray());
        float[] bias = null;
        if (file.contains(p + "gate.e_score_correction_bias")) {
            String name = p + "gate.e_score_correction_bias";
            bias = requireFinite(name, file.tensor(name).require(SafetensorsDType.F32, n).toFloatArray());
        }
        int i = Math.toIntExact(file.tensor(p + "experts.0.gate_proj.weight").dim(0));
        List<QuantizedTensor> w13 = new ArrayList<>(n);
        List<QuantizedTensor> w2 = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            String ex = p + "experts." + e + ".";
            w13.add(stack(fp8(file, ex + "gate_proj", i, h), fp8(file, ex + "up_proj", i, h)));
            w2.add(fp8(file, ex + "down_proj", h, i));
        }
        QuantizedTensor s13 = null;
        QuantizedTensor s2 = null;
        if (file.contains(p + "shared_experts.gate_proj.weight")) {
            int is = Math.toIntExact(file.tensor(p + "shared_experts.gate_proj.weight").dim(0));
            s13 = stack(fp8(file, p + "shared_experts.gate_proj", is, h), fp8(file, p + "shared_experts.up_proj", is, h));
            s2 = fp8(file, p + "shared_experts.down_proj", h, is);
        }
        return new MoeLayerWeights(config, h, i, gateWeight, bias, ExpertWeights.of(w13), ExpertWeights.of(w2), s13, s2);
    }

    private static QuantizedTensor fp8(TensorSource file, String name, int rows, int cols) {
        SafetensorsTensor weight = file.tensor(name + ".weight");
        if (weight.dtype() != SafetensorsDType.F8_E4M3 && !file.contains(name + ".weight_scale_inv")) {
            SafetensorsDType d = weight.dtype();
            weight.require(d == SafetensorsDType.BF16 || d == SafetensorsDType.F16 ? d : SafetensorsDType.F32, rows, cols);
            return BlockQuantizer.quantize(weight.toFloatArray(), rows, cols, Fp8Block.TILE_128X128, false);
        }
        byte[] codes = weight.require(SafetensorsDType.F8_E4M3, rows, cols).toByteArray();
        int nan = E4m3.indexOfNaN(codes);
        if (nan >= 0) {
            throw new IllegalArgumentException("tensor '" + name + ".weight': element [" + nan / cols + ", " + nan % cols
                    + "] is the E4M3 NaN code 0x" + Integer.toHexString(codes[nan] & 0xFF));
        }
        long[] s = Fp8Block.TILE_128X128.scaleShape(rows, cols);
        float[] scales = file.tensor(name + ".weight_scale_inv").require(SafetensorsDType.F32, s).toFloatArray();
        for (int j = 0; j < scales.length; j++) {
            if (!(scales[j] >= 0 && scales[j] < Float.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("tensor '" + name + ".weight_scale_inv': block " + j + " is " + scales[j]
                        + "; a block's scale must be finite and >= 0");
            }
        }
        return new QuantizedTensor(rows, cols, Fp8Block.TILE_128X128, false, codes, scales);
    }

    /** The values, after checking that all are finite (naming the tensor and the first bad element). */
    private static float[] requireFinite(String name, float[] values) {
        for (int j = 0; j < values.length; j++) {
            if (!Float.isFinite(values[j])) {
                throw new IllegalArgumentException("tensor '" + name + "': element " + j + " is " + values[j]);
            }
        }
        return values;
    }

    /** [w1; w3] as one [2I, H] matrix: codes and block rows of scales concatenated (I a multiple of 128). */
    static QuantizedTensor stack(QuantizedTensor w1, QuantizedTensor w3) {
        if (w1.rows() % Fp8Block.TILE_COLS != 0) {
            throw new IllegalArgumentException("expert width I = " + w1.rows() + " must be a multiple of 128 to stack w1 and w3");
        }
        byte[] codes = Arrays.copyOf(w1.codes(), w1.codes().length + w3.codes().length);
        System.arraycopy(w3.codes(), 0, codes, w1.codes().length, w3.codes().length);
        float[] scales = Arrays.copyOf(w1.scales(), w1.scales().length + w3.scales().length);
        System.arraycopy(w3.scales(), 0, scales, w1.scales().length, w3.scales().length);
        return new QuantizedTensor(2 * w1.rows(), w1.cols(), Fp8Block.TILE_128X128, w1.pow2(), codes, scales);
    }

    /**
     * Adds layer {@code layer} of {@code w} to {@code out} under the names {@link #load} reads.
     *
     * @param out      the writer to add the tensors to
     * @param layer    the layer index L in the tensor names
     * @param w        the weights
     * @param gateBf16 store the router weight as BF16 (rounded) instead of F32
     * @throws IllegalArgumentException if a tensor name is already used in {@code out}
     */
    public static void write(SafetensorsWriter out, int layer, MoeLayerWeights w, boolean gateBf16) {
        String p = prefix(layer);
        int n = w.config().numExperts();
        if (gateBf16) {
            out.addBf16(p + "gate.weight", w.gate(), n, w.hidden());
        } else {
            out.addF32(p + "gate.weight", w.gate(), n, w.hidden());
        }
        if (w.gateBias() != null) {
            out.addF32(p + "gate.e_score_correction_bias", w.gateBias(), n);
        }
        for (int e = 0; e < n; e++) {
            QuantizedTensor w13 = expert(w.w13(), e);
            putFp8(out, p + "experts." + e + ".gate_proj", half(w13, 0));
            putFp8(out, p + "experts." + e + ".up_proj", half(w13, 1));
            putFp8(out, p + "experts." + e + ".down_proj", expert(w.w2(), e));
        }
        if (w.hasSharedExpert()) {
            putFp8(out, p + "shared_experts.gate_proj", half(w.sharedW13(), 0));
            putFp8(out, p + "shared_experts.up_proj", half(w.sharedW13(), 1));
            putFp8(out, p + "shared_experts.down_proj", w.sharedW2());
        }
    }

    private static void putFp8(SafetensorsWriter out, String name, QuantizedTensor t) {
        out.add(name + ".weight", SafetensorsDType.F8_E4M3, t.codes(), t.rows(), t.cols());
        long[] s = Fp8Block.TILE_128X128.scaleShape(t.rows(), t.cols());
        out.addF32(name + ".weight_scale_inv", t.scales(), s);
    }

    private static QuantizedTensor expert(ExpertWeights w, int e) {
        int codes = w.rows() * w.cols();
        int scales = w.scales().length / w.experts();
        return new QuantizedTensor(w.rows(), w.cols(), Fp8Block.TILE_128X128, false,
                Arrays.copyOfRange(w.codes(), e * codes, (e + 1) * codes), Arrays.copyOfRange(w.scales(), e * scales, (e + 1) * scales));
    }

    /** Rows [0, I) (part 0, w1) or [I, 2I) (part 1, w3) of a stacked [2I, H] matrix. */
    private static QuantizedTensor half(QuantizedTensor w13, int part) {
        int rows = w13.rows() / 2;
        int codes = rows * w13.cols();
        int scales = w13.scales().length / 2;
        return new QuantizedTensor(rows, w13.cols(), Fp8Block.TILE_128X128, w13.pow2(),
                Arrays.copyOfRange(w13.codes(), part * codes, (part + 1) * codes),
                Arrays.copyOfRange(w13.scales(), part * scales, (part + 1) * scales));
    }
}
