package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.moe.dist.Communicator;
import dev.moe.io.OutputFiles;
import dev.moe.backend.Backend;
import dev.moe.routing.Routers;
import dev.moe.sim.BalancerKind;
import dev.moe.train.Corpus;
import dev.moe.train.Gemm;
import dev.moe.train.Gemms;
import dev.moe.train.Precision;
import dev.moe.train.TrainCheckpoint;
import dev.moe.train.TrainRecord;
import dev.moe.train.TrainSettings;
import dev.moe.train.Trainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moe train}: trains a byte-level MoE transformer and logs balance, loss and interference. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a byte-level (vocabulary 256) decoder-only MoE transformer on the bytes of a file.",
                "Blocks: pre-RMSNorm causal attention (RoPE) and a DeepSeek-style MoE feed-forward (shared expert(s) "
                        + "plus routed SwiGLU experts chosen by the library's gate). AdamW, warm-up + cosine decay, "
                        + "gradient clipping at norm 1. The last --val-fraction of the file is held out.",
                "CSV columns: step,train_loss,val_loss,maxvio_batch,maxvio_global,aux_loss,router_grad_norm,"
                        + "interference_norm,interference_ratio,lr (losses in nats per byte; val_loss and maxvio_global "
                        + "on evaluation steps only)."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "The text to train on (bytes).")
    Path corpus;

    @Option(names = "--val-fraction", defaultValue = "0.05", description = "Held-out share, the end of the file (default ${DEFAULT-VALUE}).")
    double valFraction;

    @CommandLine.Mixin
    ModelOptions model;

    @Option(names = "--batch", defaultValue = "16", description = "Sequences per step, over all ranks (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "500", description = "Length of the whole run; the schedule spans it (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup", defaultValue = "50", description = "Warm-up steps (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", defaultValue = "1", description = "Initialisation and data seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--eval-every", defaultValue = "50", description = "Evaluate on the held-out split every N steps and at the last (default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--balancer", defaultValue = "loss-free", paramLabel = "loss-free|aux-loss|none",
            description = "Load balancing: the loss-free bias, an auxiliary loss, or none (default ${DEFAULT-VALUE}).")
    String balancer;

    @Option(names = "--gamma", defaultValue = "0.001", description = "Bias update speed for loss-free (default ${DEFAULT-VALUE}).")
    float gamma;

    @Option(names = "--alpha", defaultValue = "0.001", description = "Auxiliary loss coefficient for aux-loss (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp8", description = "GEMM precision (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "java|cpu|auto",
            description = "java: pure-Java reference; cpu: native kernels; auto: cpu when the native library loads (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--csv", required = true, paramLabel = "run.csv", description = "Where to write one row per step.")
    Path csv;

    @Option(names = "--plot", paramLabel = "run.png", description = "Also write a PNG of loss, MaxVio and bias paths.")
    Path plot;

    @Option(names = "--save", paramLabel = "ckpt.safetensors", description = "Write the run's state when it ends.")
    Path save;

    @Option(names = "--stop-after", paramLabel = "N", description = "End the run after step N (resume it later with --resume).")
    Integer stopAfter;

    @Option(names = "--resume", paramLabel = "ckpt.safetensors", description = "Continue from a checkpoint of the same flags.")
    Path resume;

    @CommandLine.Mixin
    MpiOption mpi;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        TrainSettings settings = settings();
        int last = stopAfter == null ? steps : stopAfter;
        if (last < 1 || last > steps) {
            throw new UsageException("--stop-after must be in 1..--steps (" + steps + "), got " + last);
        }
        Backend be = Backend.parse(backend);
        if (be == Backend.CUDA) {
            throw new UsageException("--backend: training runs on java or cpu, got cuda");
        }
        MemoryBudget.of("train --dim " + model.dim + " --layers " + model.layers + " --seq " + model.seq + " --batch " + batch)
                .training(settings.model(), batch).require();
        Communicator comm = mpi.open();
        // Every output is checked before any work (rank 0 writes them); inputs are never outputs.
        try (OutputFiles outputs = comm.rank() == 0 ? OutputFiles.builder().input("--corpus", corpus).input("--resume", resume)
                .output("--csv", csv).output("--plot", plot).output("--save", save).open() : null) {
            Corpus data = Corpus.read(corpus, valFraction, model.seq);
            return MpiOption.run(comm, () -> train(settings, data, comm, be, last, outputs));
        }
    }

    private TrainSettings settings() {
        return new TrainSettings(model.toConfig(), batch, steps, lr, warmup, seed, evalEvery, BalancerKind.parse(balancer), gamma, alpha,
                TrainSettings.DEFAULT_WEIGHT_DECAY, TrainSettings.DEFAULT_CLIP_NORM, Precision.parse(precision));
    }

    private int train(TrainSettings settings, Corpus data, Communicator comm, Backend be, int last, OutputFiles outputs)
            throws IOException {
        Backend chosen = be == Backend.AUTO ? (Routers.resolveAuto() == Backend.JAVA ? Backend.JAVA : Backend.CPU) : be;
        Gemm gemm = Gemms.create(chosen);
        Trainer trainer = new Trainer(settings, data, comm, gemm, Routers.create(settings.model().routing(), chosen));
        if (resume != null) {
            TrainCheckpoint.restore(trainer, resume);
            if (trainer.completedSteps() >= last) {
                throw new UsageException("--resume: the checkpoint is at step " + trainer.completedSteps() + ", nothing left to run up to "
                        + last);
            }
        }
        boolean lead = comm.rank() == 0;
        List<TrainRecord> rows = new ArrayList<>();
        long start = System.nanoTime();
        int first = trainer.completedSteps();
        if (System.console() != null && lead) {
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(last - first)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .build()) {
                trainer.run(last, r -> {
                    rows.add(r);
                    bar.step();
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f", r.trainLoss()));
                });
            }
        } else {
            trainer.run(last, rows::add);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        TrainRecord end = rows.get(rows.size() - 1);
        Trainer.Evaluation eval = end.evaluated() ? null : trainer.evaluate();
        if (!lead) {
            return 0;
        }
        StringBuilder sb = new StringBuilder(TrainRecord.CSV_HEADER).append('\n');
        for (TrainRecord r : rows) {
            sb.append(r.csv()).append('\n');
        }
        outputs.write(csv, sb.toString().getBytes(StandardCharsets.US_ASCII));
        if (plot != null) {
            outputs.write(plot, TrainPlots.png(rows, settings.toString()));
        }
        if (save != null) {
            outputs.write(save, TrainCheckpoint.toWriter(trainer).toBytes());
        }
        outputs.commit();
        double valLoss = eval == null ? end.valLoss() : eval.loss();
        double maxVio = eval == null ? end.maxVioGlobal() : eval.maxVio();
        PrintWriter out = spec.commandLine().getOut();
        out.println(String.format(Locale.ROOT,
                "final val_loss %.4f nats/byte (%.4f bits/byte) | MaxVio_global %.3f | tokens dropped 0 | %.0f tokens/s | "
                        + "steps %d-%d of %d on %s (%s)",
                valLoss, valLoss / Math.log(2), maxVio, (double) (last - first) * settings.tokensPerStep() / seconds,
                first + 1, last, steps, chosen.cliName(), gemm.name()));
        out.flush();
        return 0;
    }
}
