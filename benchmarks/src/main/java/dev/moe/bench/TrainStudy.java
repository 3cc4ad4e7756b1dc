package dev.moe.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import dev.moe.dist.SelfCommunicator;
import dev.moe.io.AtomicFiles;
import dev.moe.backend.Backend;
import dev.moe.routing.Routers;
import dev.moe.sim.BalancerKind;
import dev.moe.train.Corpus;
import dev.moe.train.Gemms;
import dev.moe.train.Precision;
import dev.moe.train.TrainRecord;
import dev.moe.train.TrainSettings;
import dev.moe.train.Trainer;
import dev.moe.train.TransformerConfig;

/**
 * The training study: the loss-free bias against auxiliary losses and no balancing on a byte-level MoE
 * transformer trained on real English text, as in Wang et al. 2024 ("Auxiliary-Loss-Free Load Balancing
 * Strategy for Mixture-of-Experts", arXiv 2408.15664, Table 2), plus group-limited against unrestricted
 * routing (with top-2 routing only M = 1 binds: the main arms' M = 2 of 4 groups never does). For every configuration and seed it trains one model and records the held-out loss (bits per
 * byte), MaxVio_global on the held-out split, the interference gradient and the wall time; it writes each
 * run's CSV, summary.csv, summary.md (means and spreads over seeds) and plots into one directory.
 *
 * <pre>java -cp benchmarks.jar dev.moe.bench.TrainStudy OUT_DIR CORPUS STEPS SEEDS [DIM]</pre>
 */
public final class TrainStudy {
    private record Arm(String name, BalancerKind balancer, float gamma, double alpha, int topkGroups) {}

    private record Outcome(Arm arm, long seed, double valLoss, double maxVioGlobal, double meanInterference,
                           double meanInterferenceRatio, double groupsPerToken, double seconds, List<TrainRecord> rows) {}

    private TrainStudy() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: TrainStudy OUT_DIR CORPUS STEPS SEEDS [DIM]");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        Path out = Path.of(args[0]);
        Path corpusFile = Path.of(args[1]);
        int steps = Integer.parseInt(args[2]);
        int seeds = Integer.parseInt(args[3]);
        int dim = args.length > 4 ? Integer.parseInt(args[4]) : 128;
        Files.createDirectories(out);
        TransformerConfig full = new TransformerConfig(2, dim, 4, 128, 16, 4, 2, 2, 1, dim, "deepseek-v3");
        Corpus corpus = Corpus.read(corpusFile, 0.05, full.seqLen());
        List<Arm> arms = List.of(
                new Arm("none", BalancerKind.NONE, 0, 0, 2),
                new Arm("aux-loss a=1e-4", BalancerKind.AUX_LOSS, 0, 1e-4, 2),
                new Arm("aux-loss a=1e-3", BalancerKind.AUX_LOSS, 0, 1e-3, 2),
                new Arm("aux-loss a=1e-2", BalancerKind.AUX_LOSS, 0, 1e-2, 2),
                new Arm("loss-free g=1e-4", BalancerKind.LOSS_FREE, 1e-4f, 0, 2),
                new Arm("loss-free g=1e-3", BalancerKind.LOSS_FREE, 1e-3f, 0, 2),
                new Arm("loss-free g=1e-2", BalancerKind.LOSS_FREE, 1e-2f, 0, 2),
                new Arm("loss-free g=1e-3, group-limited (M=1 of 4)", BalancerKind.LOSS_FREE, 1e-3f, 0, 1),
                new Arm("loss-free g=1e-3, unrestricted (M=4 of 4)", BalancerKind.LOSS_FREE, 1e-3f, 0, 4));
        Backend backend = Routers.resolveAuto() == Backend.JAVA ? Backend.JAVA : Backend.CPU;
        List<Outcome> outcomes = new ArrayList<>();
        StringBuilder summary = new StringBuilder("arm,seed,val_loss_nats,val_bits_per_byte,maxvio_global,"
                + "mean_interference_norm,mean_interference_ratio,val_groups_per_token,seconds\n");
        for (Arm arm : arms) {
            for (long seed = 1; seed <= seeds; seed++) {
                TransformerConfig c = new TransformerConfig(full.layers(), full.dim(), full.heads(), full.seqLen(), full.experts(),
                        full.groups(), arm.topkGroups(), full.topk(), full.sharedExperts(), full.expertDim(), full.preset());
                TrainSettings s = new TrainSettings(c, 16, steps, 3e-3, Math.max(1, steps / 10), seed, Math.max(1, steps / 10),
                        arm.balancer(), arm.gamma(), arm.alpha(), TrainSettings.DEFAULT_WEIGHT_DECAY,
                        TrainSettings.DEFAULT_CLIP_NORM, Precision.FP32);
                Trainer t = new Trainer(s, corpus, new SelfCommunicator(), Gemms.create(backend),
                        Routers.create(c.routing(), backend));
                List<TrainRecord> rows = new ArrayList<>();
                long t0 = System.nanoTime();
                t.run(steps, rows::add);
                double seconds = (System.nanoTime() - t0) / 1e9;
                TrainRecord last = rows.get(rows.size() - 1);
                double interference = rows.stream().mapToDouble(TrainRecord::interferenceNorm).average().orElse(0);
                double ratio = rows.stream().mapToDouble(TrainRecord::interferenceRatio).average().orElse(0);
                Outcome o = new Outcome(arm, seed, last.valLoss(), last.maxVioGlobal(), interference, ratio,
                        last.groupsPerToken(), seconds, rows);
                outcomes.add(o);
                summary.append(String.format(Locale.ROOT, "%s,%d,%.5f,%.5f,%.4f,%.4g,%.4g,%.4f,%.1f%n", arm.name(), seed,
                        o.valLoss(), o.valLoss() / Math.log(2), o.maxVioGlobal(), interference, ratio, o.groupsPerToken(),
                        seconds));
                StringBuilder csv = new StringBuilder(TrainRecord.CSV_HEADER).append('\n');
                rows.forEach(r -> csv.append(r.csv()).append('\n'));
                AtomicFiles.write(out.resolve(fileName(arm, seed) + ".csv"), csv.toString().getBytes(StandardCharsets.US_ASCII));
                System.out.printf(Locale.ROOT, "%-40s seed %d: %.4f bits/byte, MaxVio_global %.3f, interference ratio %.3g, "
                        + "%.0f s%n", arm.name(), seed, o.valLoss() / Math.log(2), o.maxVioGlobal(), ratio, seconds);
            }
        }
        AtomicFiles.write(out.resolve("summary.csv"), summary.toString().getBytes(StandardCharsets.US_ASCII));
        AtomicFiles.write(out.resolve("summary.md"), table(outcomes, full, steps, corpus, backend).getBytes(StandardCharsets.UTF_8));
        plots(out, outcomes);
    }

    private static String fileName(Arm arm, long seed) {
        return arm.name().replaceAll("[^A-Za-z0-9]+", "_").replaceAll("_+$", "") + "_seed" + seed;
    }

    private static String table(List<Outcome> outcomes, TransformerConfig c, int steps, Corpus corpus, Backend backend) {
        Map<String, List<Outcome>> byArm = new LinkedHashMap<>();
        outcomes.forEach(o -> byArm.computeIfAbsent(o.arm().name(), k -> new ArrayList<>()).add(o));
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Model: %d layers, dim %d, %d heads, seq %d, %d routed experts (top-%d, %d of %d "
                + "groups unless noted) + %d shared, expert width %d, %d parameters; batch 16, %d steps, AdamW lr 3e-3; "
                + "%d training and %d held-out bytes; backend %s.%n%n", c.layers(), c.dim(), c.heads(), c.seqLen(), c.experts(),
                c.topk(), c.topkGroups(), c.groups(), c.sharedExperts(), c.expertDim(), c.parameterCount(), steps,
                corpus.trainBytes(), corpus.heldOutBytes(), backend.cliName()));
        md.append("| arm | held-out bits/byte | MaxVio_global | interference ‖∂L_aux/∂W_g‖ | ratio to LM gradient | "
                + "groups per token | seconds per run |\n|---|---|---|---|---|---|---|\n");
        byArm.forEach((name, list) -> md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.0f |%n", name,
                meanSd(list, o -> o.valLoss() / Math.log(2), "%.4f"), meanSd(list, Outcome::maxVioGlobal, "%.3f"),
                meanSd(list, Outcome::meanInterference, "%.3g"), meanSd(list, Outcome::meanInterferenceRatio, "%.3g"),
                meanSd(list, Outcome::groupsPerToken, "%.3f"), list.stream().mapToDouble(Outcome::seconds).average().orElse(0))));
        md.append("\nMeans ± standard deviations over ").append(byArm.values().iterator().next().size()).append(" seeds.\n");
        return md.toString();
    }

    private static String meanSd(List<Outcome> list, java.util.function.ToDoubleFunction<Outcome> f, String fmt) {
        double mean = list.stream().mapToDouble(f).average().orElse(Double.NaN);
        double var = list.stream().mapToDouble(o -> (f.applyAsDouble(o) - mean) * (f.applyAsDouble(o) - mean)).sum()
                / Math.max(1, list.size() - 1);
        return String.format(Locale.ROOT, fmt + " ± " + fmt, mean, Math.sqrt(var));
    }

    private static void plots(Path out, List<Outcome> outcomes) throws IOException {
        XYChart loss = new XYChartBuilder().width(1000).height(450).title("held-out loss (seed 1)").xAxisTitle("step")
                .yAxisTitle("bits per byte").build();
        XYChart vio = new XYChartBuilder().width(1000).height(450).title("MaxVio_global on held-out data (seed 1)")
                .xAxisTitle("step").yAxisTitle("MaxVio").build();
        for (Outcome o : outcomes) {
            if (o.seed() != 1) {
                continue;
            }
            List<TrainRecord> evals = o.rows().stream().filter(TrainRecord::evaluated).toList();
            double[] x = evals.stream().mapToDouble(TrainRecord::step).toArray();
            loss.addSeries(o.arm().name(), x, evals.stream().mapToDouble(r -> r.valLoss() / Math.log(2)).toArray())
                    .setMarker(SeriesMarkers.NONE);
            vio.addSeries(o.arm().name(), x, evals.stream().mapToDouble(TrainRecord::maxVioGlobal).toArray())
                    .setMarker(SeriesMarkers.NONE);
        }
        BitmapEncoder.saveBitmap(loss, out.resolve("held-out-loss").toString(), BitmapEncoder.BitmapFormat.PNG);
        BitmapEncoder.saveBitmap(vio, out.resolve("maxvio-global").toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
