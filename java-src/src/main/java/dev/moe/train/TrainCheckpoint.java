package dev.moe.train;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;

import dev.moe.balance.BiasBalancer;
import dev.moe.balance.BiasState;
import dev.moe.safetensors.SafetensorsDType;
import dev.moe.safetensors.SafetensorsFile;
import dev.moe.safetensors.SafetensorsFormatException;
import dev.moe.safetensors.SafetensorsTensor;
import dev.moe.safetensors.SafetensorsWriter;

/**
 * A training run's complete state in one safetensors file, written atomically: every parameter as
 * {@code model.NAME} (F32, its shape), AdamW's moments as {@code adam.m.NAME} / {@code adam.v.NAME},
 * the balancer's bias as {@code balancer.bias} [L, N] (loss-free only), and in the metadata the step,
 * the optimizer's and balancer's counters, the data position and every setting as {@code flag.NAME}.
 *
 * <p>The data position is the next step: batches are drawn by (seed, step, sequence), so there is no
 * other generator state to keep. A resume checks every setting against the checkpoint's and names the
 * first flag that differs.
 */
public final class TrainCheckpoint {
    /** The value of the {@code format} metadata key. */
    public static final String FORMAT = "moe-train/1";

    private TrainCheckpoint() {}

    /**
     * Writes the trainer's state.
     *
     * @param trainer the run
     * @param file    the checkpoint to write (atomically replaced)
     * @throws IOException if it cannot be written
     */
    public static void save(Trainer trainer, Path file) throws IOException {
        toWriter(trainer).write(file);
    }

    /**
     * The checkpoint's contents, ready to write.
     *
     * @param trainer the run
     * @return a writer holding every tensor and the metadata
     */
    public static SafetensorsWriter toWriter(Trainer trainer) {
        SafetensorsWriter w = new SafetensorsWriter();
        MoeTransformer model = trainer.model();
        float[] p = model.parameters();
        float[] m = trainer.optimizer().firstMoments();
        float[] v = trainer.optimizer().secondMoments();
        for (ParameterLayout.Tensor t : model.layout().tensors()) {
            long[] shape = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
            int from = t.offset();
            int to = from + t.size();
            w.addF32("model." + t.name(), java.util.Arrays.copyOfRange(p, from, to), shape);
            w.addF32("adam.m." + t.name(), java.util.Arrays.copyOfRange(m, from, to), shape);
            w.addF32("adam.v." + t.name(), java.util.Arrays.copyOfRange(v, from, to), shape);
        }
        w.metadata("format", FORMAT);
        w.metadata("step", Integer.toString(trainer.completedSteps()));
        w.metadata("data_position", Integer.toString(trainer.completedSteps() + 1));
        w.metadata("optimizer_steps", Long.toString(trainer.optimizer().steps()));
        BiasBalancer b = trainer.balancer();
        if (b != null) {
            BiasState state = b.snapshot();
            int layers = state.layers();
            int n = state.numExperts();
            float[] flat = new float[layers * n];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(state.bias()[l], 0, flat, l * n, n);
            }
            w.addF32("balancer.bias", flat, layers, n);
            w.metadata("balancer_step", Long.toString(state.step()));
            w.metadata("balancer_tokens", Long.toString(state.tokensSeen()));
        }
        for (Map.Entry<String, String> e : trainer.settings().asFlags().entrySet()) {
            w.metadata("flag." + e.getKey(), e.getValue());
        }
        return w;
    }

    /**
     * Restores a checkpoint into a freshly built trainer with the same settings.
     *
     * @param trainer the run, at step 0
     * @param file    the checkpoint
     * @throws IOException if it cannot be read
     * @throws SafetensorsFormatException if it is not a training checkpoint of these settings
     */
    public static void restore(Trainer trainer, Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(file, arena);
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new SafetensorsFormatException(file, "not a training checkpoint (metadata format is "
                        + meta.get("format") + ", expected " + FORMAT + ")");
            }
            for (Map.Entry<String, String> e : trainer.settings().asFlags().entrySet()) {
                String saved = meta.get("flag." + e.getKey());
                if (!e.getValue().equals(saved)) {
                    throw new SafetensorsFormatException(file, "was written with --" + e.getKey() + " " + saved
                            + ", this run has " + e.getValue() + " (resume with the same flags)");
                }
            }
            int step = intMeta(file, meta, "step", 0, trainer.settings().steps());
            long optSteps = intMeta(file, meta, "optimizer_steps", 0, step);
            MoeTransformer model = trainer.model();
            int size = model.layout().size();
            float[] p = model.parameters();
            float[] m = new float[size];
            float[] v = new float[size];
            for (ParameterLayout.Tensor t : model.layout().tensors()) {
                long[] shape = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
                copy(f, "model." + t.name(), shape, p, t.offset());
                copy(f, "adam.m." + t.name(), shape, m, t.offset());
                copy(f, "adam.v." + t.name(), shape, v, t.offset());
            }
            trainer.optimizer().restore(m, v, optSteps);
            BiasState bias = null;
            if (trainer.balancer() != null) {
                TransformerConfig c = trainer.settings().model();
                float[] flat = f.tensor("balancer.bias").require(SafetensorsDType.F32, c.layers(), c.experts()).toFloatArray();
                float[][] b = new float[c.layers()][c.experts()];
                for (int l = 0; l < b.length; l++) {
                    System.arraycopy(flat, l * c.experts(), b[l], 0, c.experts());
                    for (float x : b[l]) {
                        if (!Float.isFinite(x)) {
                            throw new SafetensorsFormatException(file, "balancer.bias holds a non-finite value");
                        }
                    }
                }
                bias = new BiasState(intMeta(file, meta, "balancer_step", 0, step),
                        longMeta(file, meta, "balancer_tokens"), trainer.balancer().rule(), b);
            }
            trainer.resumeAt(step, bias);
        }
    }

    private static void copy(SafetensorsFile f, String name, long[] shape, float[] dst, int off) {
        float[] values = f.tensor(name).require(SafetensorsDType.F32, shape).toFloatArray();
        for (float x : values) {
            if (!Float.isFinite(x)) {
                throw new SafetensorsFormatException(f.path(), name + " holds a non-finite value");
            }
        }
        System.arraycopy(values, 0, dst, off, values.length);
    }

    private static int intMeta(Path file, Map<String, String> meta, String key, long min, long max) {
        long v = longMeta(file, meta, key);
        if (v < min || v > max) {
            throw new SafetensorsFormatException(file, "metadata " + key + " = " + v + " is outside " + min + ".." + max);
        }
        return (int) v;
    }

    private static long longMeta(Path file, Map<String, String> meta, String key) {
        String s = meta.get(key);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException | NullPointerException e) {
            throw new SafetensorsFormatException(file, "metadata " + key + " is missing or not an integer: " + s);
        }
    }
}
