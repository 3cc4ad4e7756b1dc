package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.layer.CudaMoeLayer;
import dev.moe.layer.MoeLayer;
import dev.moe.layer.MoeLayerCheckpoint;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moe layer}: loads one MoE layer from a DeepSeek-V3-layout safetensors file and runs it on an input. */
@Command(name = "layer", mixinStandardHelpOptions = true,
        description = {"Load MoE layer L from a safetensors checkpoint in DeepSeek-V3's layout (model.layers.L.mlp.gate.weight, "
                + "...experts.E.{gate,up,down}_proj.weight with weight_scale_inv, optional shared_experts) and run its forward "
                + "pass on X [T, H]: router, gate, FP8 expert GEMMs (1x128 activations, 128x128 weights), SwiGLU, combine, "
                + "shared expert. Writes float32 Y [T, H] and, if asked, the routed ids [T, K]."})
final class LayerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RoutingOptions routing;

    @Option(names = "--weights", required = true, paramLabel = "F.safetensors", description = "Checkpoint holding the layer.")
    Path weights;

    @Option(names = "--layer", required = true, paramLabel = "L", description = "Layer index in the tensor names.")
    int layer;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "float32 [T, H] hidden states.")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Output: float32 [T, H].")
    Path out;

    @Option(names = "--out-ids", paramLabel = "I.npy", description = "Also write the routed expert ids, int32 [T, K].")
    Path outIds;

    @Option(names = "--backend", paramLabel = "java|cpu|cuda|auto", defaultValue = "auto",
            description = "Where to run (default ${DEFAULT-VALUE}: cuda if a GPU is usable, else cpu, else java).")
    String backend;

    @Override
    public Integer call() throws IOException {
        RoutingConfig config = routing.toConfig();
        Backend be = Backend.parse(backend);
        if (be == Backend.AUTO) {
            be = Routers.resolveAuto();  // logged at INFO, as cli.md asks
        }
        try (Arena arena = Arena.ofConfined()) {
            MoeLayerWeights w;
            try {
                w = MoeLayerCheckpoint.load(SafetensorsFile.open(weights, arena), layer, config);
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new UsageException("--weights " + weights + ": " + e.getMessage());
            }
            NpyArray x = Npy.readFloat32(input, arena);
            if (x.rank() != 2 || x.dim(1) != w.hidden() || x.dim(0) > Integer.MAX_VALUE / Math.max(1, w.hidden())) {
                throw new UsageException("--input " + input + ": expected float32 [T, " + w.hidden() + "], got " + x.shapeString());
            }
            int tokens = (int) x.dim(0);
            MoeLayer.Output y;
            String ran;
            try {
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
            } catch (IllegalArgumentException e) {
                throw new UsageException("--input " + input + ": " + e.getMessage());
            }
            Npy.write(out, Npy.ofFloats(y.hidden(), tokens, w.hidden()));
            if (outIds != null) {
                try {
                    Npy.write(outIds, Npy.ofInts(y.routing().ids(), tokens, config.topk()));
                } catch (IOException | RuntimeException e) {
                    java.nio.file.Files.deleteIfExists(out);  // both outputs or neither
                    throw e;
                }
            }
            spec.commandLine().getOut().printf("layer %d (%d experts, H %d, I %d%s) on %d tokens, %s backend: %s%n", layer,
                    config.numExperts(), w.hidden(), w.intermediate(), w.hasSharedExpert() ? ", shared expert" : "", tokens,
                    ran, out);
        }
        return 0;
    }
}
