package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import dev.moe.io.Npy;
import dev.moe.layer.DeepSeekCheckpoint;
import dev.moe.layer.MoeLayerCheckpoint;
import dev.moe.layer.MoeLayerWeights;
import dev.moe.math.Gaussian;
import dev.moe.routing.RoutingConfig;
import dev.moe.safetensors.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moe layer init}: writes a synthetic MoE layer in DeepSeek's checkpoint layout, as one
 * safetensors file or as a Hugging Face checkpoint directory, so that {@code moe layer} has something
 * to run.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Write one synthetic MoE layer (seeded random weights, FP8 experts) in DeepSeek's checkpoint layout: to one "
                + "safetensors file, or with --shards N to a Hugging Face checkpoint directory (config.json, "
                + "model.safetensors.index.json, model-0000i-of-0000N.safetensors). Tensors (docs/checkpoints.md; each FP8 weight "
                + "with .weight_scale_inv F32 [ceil(rows/128), ceil(cols/128)]; the shared expert with --shared):",
                LayerCommand.GATE, LayerCommand.BIAS, LayerCommand.W13, LayerCommand.W2, LayerCommand.SHARED})
final class LayerInitCommand implements Callable<Integer> {
    /** The most the checkpoint may hold: it is built in memory before it is written. */
    static final long MAX_BYTES = 1L << 30;

    @Spec
    CommandSpec spec;

    @Mixin
    RoutingOptions routing;

    @Option(names = "--out", required = true, paramLabel = "F.safetensors|DIR",
            description = "The checkpoint file, or with --shards the directory (created; must not exist or be empty).")
    Path out;

    @Option(names = "--layer", defaultValue = "0", paramLabel = "L", description = "Layer index in the tensor names (default ${DEFAULT-VALUE}).")
    int layer;

    @Option(names = "--hidden", defaultValue = "256", paramLabel = "H", description = "Hidden size H (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "128", paramLabel = "I",
            description = "Each expert's width I, a multiple of 128 (default ${DEFAULT-VALUE}).")
    int intermediate;

    @Option(names = "--shared", description = "Add a shared expert of width I.")
    boolean shared;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--gate-dtype", defaultValue = "bf16", paramLabel = "bf16|f32",
            description = "Router weight dtype (default ${DEFAULT-VALUE}, as DeepSeek ships it).")
    String gateDtype;

    @Option(names = "--shards", paramLabel = "N", description = "Write a Hugging Face checkpoint directory with N shard files.")
    Integer shards;

    @Option(names = "--sample-input", paramLabel = "X.npy", description = "Also write float32 hidden states [T, H] to run the layer on.")
    Path sampleInput;

    @Option(names = "--tokens", defaultValue = "16", paramLabel = "T", description = "Rows of --sample-input (default ${DEFAULT-VALUE}).")
    int tokens;

    @Override
    public Integer call() throws IOException {
        RoutingConfig config = routing.toConfig();
        boolean bf16 = switch (gateDtype) {
            case "bf16" -> true;
            case "f32" -> false;
            default -> throw new UsageException("--gate-dtype: expected bf16 or f32, got '" + gateDtype + "'");
        };
        if (layer < 0 || hidden < 1 || intermediate < 128 || intermediate % 128 != 0 || tokens < 1) {
            throw new UsageException("--layer must be >= 0, --hidden >= 1, --intermediate a positive multiple of 128 and --tokens >= 1");
        }
        long bytes = (long) config.numExperts() * 3 * intermediate * hidden * (shared ? 2 : 1);
        if (bytes > MAX_BYTES) {
            throw new UsageException(String.format(Locale.ROOT, "the layer would take %.1f GiB; layer init builds it in memory and "
                    + "writes at most %d GiB: lower --hidden, --intermediate or --experts", bytes / (double) (1L << 30), MAX_BYTES >> 30));
        }
        if ((long) tokens * hidden > Integer.MAX_VALUE - 8) {
            throw new UsageException("--tokens x --hidden = " + (long) tokens * hidden + " values: too many for one array");
        }
        boolean createdDir = shards != null && prepareDirectory();
        MoeLayerWeights w = MoeLayerWeights.synthetic(config, hidden, intermediate, shared, seed);
        List<Path> written = new ArrayList<>();
        try {
            if (shards != null) {
                DeepSeekCheckpoint.write(out, layer, w, shards, bf16);
            } else {
                SafetensorsWriter file = new SafetensorsWriter();
                MoeLayerCheckpoint.write(file, layer, w, bf16);
                file.write(out);
            }
            written.add(out);
            if (sampleInput != null) {
                Npy.write(sampleInput, Npy.ofFloats(gaussian(tokens * hidden, seed), tokens, hidden));
                written.add(sampleInput);
            }
        } catch (IOException | RuntimeException e) {
            if (shards != null) {
                deleteContents(out, createdDir);  // it was empty: everything in it is ours
            } else {
                deleteQuietly(written);
            }
            throw e;
        }
        report(config);
        return 0;
    }

    /**
     * --out for a directory: created if missing; an existing one must be empty, so that nothing of the
     * user's is overwritten or removed.
     *
     * @return whether it was created
     */
    private boolean prepareDirectory() throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + ": exists and is not a directory (with --shards it names a directory)");
        }
        if (!Files.isDirectory(out)) {
            Files.createDirectory(out);
            return true;
        }
        try (var entries = Files.list(out)) {
            if (entries.findAny().isPresent()) {
                throw new UsageException("--out " + out + ": directory is not empty");
            }
        }
        return false;
    }

    private static void deleteContents(Path dir, boolean andDir) {
        try (var entries = Files.list(dir)) {
            deleteQuietly(entries.toList());
        } catch (IOException ignored) {
            // best effort: the original error is what the user needs to see
        }
        if (andDir) {
            deleteQuietly(List.of(dir));
        }
    }

    private static void deleteQuietly(List<Path> files) {
        for (Path p : files) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort, as above
            }
        }
    }

    private void report(RoutingConfig config) {
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote layer %d (N %d experts, H %d, I %d%s, seed %d) to %s%s%n", layer, config.numExperts(), hidden, intermediate,
                shared ? ", shared expert" : "", seed, out, shards != null ? " (config.json, index, " + shards + " shards)" : "");
        String input = sampleInput != null ? sampleInput.toString() : "X.npy";
        String flags = shards != null ? "" : " " + String.join(" ", routing.explicitFlags());
        o.printf("run it: ./moe layer --weights %s --layer %d --input %s --out Y.npy%s%n", out, layer, input, flags);
    }

    private static float[] gaussian(int count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) Gaussian.next(rnd);
        }
        return x;
    }
}
