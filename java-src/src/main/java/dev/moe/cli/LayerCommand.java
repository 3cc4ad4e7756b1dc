package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;
import dev.moe.io.OutputFiles;
import dev.moe.layer.CudaMoeLayer;
import dev.moe.layer.DeepSeekCheckpoint;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerCheckpoint;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsFile;
import dev.moe.safetensors.SafetensorsFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe layer}: loads one MoE layer from a DeepSeek-layout checkpoint (one safetensors file, or a
 * Hugging Face checkpoint directory) and runs it on an input; {@code moe layer init} writes a synthetic one.
 */
@Command(name = "layer", mixinStandardHelpOptions = true, subcommands = LayerInitCommand.class,
        description = {"Load MoE layer L from a checkpoint in DeepSeek's layout and run its forward pass on X [T, H]: router, gate, FP8 "
                + "expert GEMMs (1x128 activations, 128x128 weights), SwiGLU, combine, shared expert. Writes float32 Y [T, H] and, "
                + "if asked, the routed ids [T, K].",
                "--weights is one .safetensors file (routing from --preset and the flags) or a Hugging Face checkpoint directory: "
                        + "config.json (routing and sizes read from it: n_routed_experts, n_group, topk_group, num_experts_per_tok, "
                        + "scoring_func, topk_method, norm_topk_prob, routed_scaling_factor, hidden_size, moe_intermediate_size, "
                        + "n_shared_experts, first_k_dense_replace; routing flags other than --preset override it) with "
                        + "model.safetensors.index.json and its model-*.safetensors shards, or model.safetensors.",
                "Tensors (docs/checkpoints.md; E = 0..N-1, the FP8 ones with .weight_scale_inv F32 per 128x128 block,",
                "or BF16 with none: quantised as they are read):",
                LayerCommand.GATE, LayerCommand.BIAS, LayerCommand.W13, LayerCommand.W2, LayerCommand.SHARED,
                "No checkpoint at hand? `moe layer init --out layer.safetensors --sample-input x.npy` writes one."})
final class LayerCommand implements Callable<Integer> {
    // The tensor table of --help, shared with `layer init`.
    static final String GATE = "  model.layers.L.mlp.gate.weight                          BF16/F32 [N, H]";
    static final String BIAS = "  model.layers.L.mlp.gate.e_score_correction_bias         F32 [N] (optional)";
    static final String W13 = "  model.layers.L.mlp.experts.E.{gate,up}_proj.weight      F8_E4M3 [I, H]";
    static final String W2 = "  model.layers.L.mlp.experts.E.down_proj.weight           F8_E4M3 [H, I]";
    static final String SHARED = "  model.layers.L.mlp.shared_experts.{gate,up,down}_proj.*  (optional)";

    @Spec
    CommandSpec spec;

    @Mixin
    RoutingOptions routing;

    // Required, but checked in call(): picocli would demand them of `layer init` too.
    @Option(names = "--weights", paramLabel = "F.safetensors|DIR", description = "Checkpoint holding the layer: a file or a "
            + "Hugging Face checkpoint directory (required).")
    Path weights;

    @Option(names = "--layer", paramLabel = "L", description = "Layer index in the tensor names (required).")
    Integer layer;

    @Option(names = "--input", paramLabel = "X.npy", description = "float32 [T, H] hidden states (required).")
    Path input;

    @Option(names = "--out", paramLabel = "Y.npy", description = "Output: float32 [T, H] (required).")
    Path out;

    @Option(names = "--out-ids", paramLabel = "I.npy", description = "Also write the routed expert ids, int32 [T, K].")
    Path outIds;

    @Option(names = "--backend", paramLabel = "java|cpu|cuda|auto", defaultValue = "auto",
            description = "Where to run (default ${DEFAULT-VALUE}: cuda if a GPU is usable, else cpu, else java).")
    String backend;

    @Override
    public Integer call() throws IOException {
        requireGiven("--weights", weights);
        requireGiven("--layer", layer);
        requireGiven("--input", input);
        requireGiven("--out", out);
        boolean dir = Files.isDirectory(weights);
        if (dir && spec.commandLine().getParseResult().hasMatchedOption("--preset")) {
            throw new UsageException("--preset: the checkpoint directory's config.json gives the routing; drop --preset (the other "
                    + "routing flags override config.json)");
        }
        RoutingConfig config = dir ? null : routing.toConfig();
        Backend be = Backend.parse(backend);
        try (OutputFiles outputs = OutputFiles.builder().input("--weights", weights).input("--input", input).output("--out", out)
                .output("--out-ids", outIds).open();
             Arena arena = Arena.ofConfined()) {
            MoeLayerWeights w;
            try {
                if (dir) {
                    DeepSeekCheckpoint ckpt = DeepSeekCheckpoint.open(weights, arena);
                    config = routing.toConfig(ckpt.config().routing());
                    w = ckpt.loadLayer(layer, config);
                } else {
                    w = MoeLayerCheckpoint.load(SafetensorsFile.open(weights, arena), layer, config);
                }
            } catch (SafetensorsFormatException e) {
                throw new UsageException("--weights " + e.getMessage());  // the message starts with the file
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                throw new UsageException("--weights " + weights + ": " + e.getMessage());
            }
            int tokens = tokens(w, config);
            NpyArray x = NpyInputs.readFloat32("--input", input, arena);
            long bad = FiniteScan.firstNonFinite(x.data());
            if (bad >= 0) {
                throw new UsageException("--input " + input + ": element [" + bad / w.hidden() + ", " + bad % w.hidden() + "] is "
                        + FiniteScan.at(x.data(), bad));
            }
            if (be == Backend.AUTO) {
                be = Routers.resolveAuto();  // logged at INFO, as docs/cli.md asks, once every input is known to be good
            }
            MoeLayer.Output y;
            String ran;
            if (be == Backend.CUDA) {
                try (CudaMoeLayer gpu = CudaMoeLayer.create(w)) {  // the GPU-resident pipeline
                    y = gpu.forward(x.toFloatArray(), tokens);
                }
                ran = "cuda";
            } else {
                MoeLayer moe = MoeLayer.create(w, be);
                y = moe.forwardWithRouting(x.toFloatArray(), tokens);
                ran = moe.backend().cliName();
            }
            outputs.write(out, Npy.contents(NpyDType.FLOAT32, new long[] {tokens, w.hidden()}, MemorySegment.ofArray(y.hidden())));
            if (outIds != null) {
                outputs.write(outIds, Npy.contents(NpyDType.INT32, new long[] {tokens, config.topk()},
                        MemorySegment.ofArray(y.routing().ids())));
            }
            outputs.commit();
            spec.commandLine().getOut().printf("layer %d (%d experts, H %d, I %d%s) on %d tokens, %s backend: %s%n", layer,
                    config.numExperts(), w.hidden(), w.intermediate(), w.hasSharedExpert() ? ", shared expert" : "", tokens,
                    ran, out);
        }
        return 0;
    }

    /** T of the input [T, H], after checking its shape and that the layer's work on it fits Java arrays and the heap. */
    private int tokens(MoeLayerWeights w, RoutingConfig config) throws IOException {
        NpyInputs.Header h = NpyInputs.header(input);
        if (h.shape().length != 2 || h.shape()[1] != w.hidden()) {
            throw new UsageException("--input " + input + ": expected float32 [T, " + w.hidden() + "], got " + h.text());
        }
        long t = h.shape()[0];
        long k = config.topk();
        long widest = Math.max(w.hidden(), 2L * w.intermediate());
        if (MemoryBudget.product(t, k, widest) > NpyInputs.MAX_ARRAY
                || MemoryBudget.product(t, config.numExperts()) > NpyInputs.MAX_ARRAY) {
            throw new UsageException("--input " + input + ": " + t + " tokens are too many for one call (T x K x max(H, 2I) and "
                    + "T x N must be below 2^31); split the input");
        }
        // x, y and the router logits, then per routed row the gathered input, its FP8 copy and the expert activations.
        MemoryBudget.of("layer on " + t + " tokens").heap(t, w.hidden(), 4 * 3).heap(t, config.numExperts(), 4)
                .heap(t, k, w.hidden(), 4 + 1 + 4).heap(t, k, w.intermediate(), 4 * 2 + 4 + 1).require();
        return (int) t;
    }

    private static void requireGiven(String flag, Object value) {
        if (value == null) {
            throw new UsageException("missing required option " + flag + " (see --help)");
        }
    }
}
