package dev.moe.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import dev.moe.backend.Backend;
import dev.moe.dist.SelfCommunicator;
import dev.moe.io.AtomicFiles;
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
 * Strategy for Mixture-of-Experts", arXiv 2408.15664, Table 2); group-limited against unrestricted routing
 * (with top-2 routing only M = 1 of 4 groups binds: the main arms' M = 2 never does); and FP8 against FP32
 * GEMMs on the same seeds. For every configuration and seed it trains one model and records the held-out
 * loss (bits per byte), MaxVio_global on the held-out split, the interference gradient and the wall time.
 *
 * <p>Results are written after every run (the run's CSV, summary.csv, summary.md, plots), and a study
 * started again in the same directory with the same arguments skips the runs summary.csv already holds,
 * so a long study can be stopped and continued.
 *
 * <pre>java -cp benchmarks.jar dev.moe.bench.TrainStudy OUT_DIR CORPUS STEPS SEEDS [DIM]</pre>
 */
public final class TrainStudy {
    private record Arm(String name, BalancerKind balancer, float gamma, double alpha, int topkGroups, Precision precision) {}

    /** One finished run; the eval series are the held-out points the plots draw. */
    private record Outcome(String arm, long seed, double valLoss, double maxVioGlobal, double meanInterference,
                           double meanInterferenceRatio, double groupsPerToken, double seconds,
                           double[] evalSteps, double[] evalLoss, double[] evalMaxVio) {}

    private static final String MAIN_ARM = "loss-free g=1e-3";
    private static final String FP8_ARM = "loss-free g=1e-3 FP8";
    private static final String SUMMARY_HEADER = "arm,seed,val_loss_nats,val_bits_per_byte,maxvio_global,"
            + "mean_interference_norm,mean_interference_ratio,val_groups_per_token,seconds";

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
        // A directory holds one study: continuing it with other settings would mix incomparable runs.
        String settings = String.format(Locale.ROOT, "steps %d, dim %d, corpus %d + %d bytes%n", steps, dim,
                corpus.trainBytes(), corpus.heldOutBytes());
        Path settingsFile = out.resolve("settings.txt");
        if (Files.isRegularFile(settingsFile) && !Files.readString(settingsFile, StandardCharsets.US_ASCII).equals(settings)) {
            System.err.println("TrainStudy: " + out + " holds a study with other settings (" + Files.readString(settingsFile,
                    StandardCharsets.US_ASCII).strip() + "); use another directory");
            System.exit(2);
        }
        AtomicFiles.write(settingsFile, settings.getBytes(StandardCharsets.US_ASCII));
        List<Arm> arms = List.of(
                new Arm("none", BalancerKind.NONE, 0, 0, 2, Precision.FP32),
                new Arm("aux-loss a=1e-4", BalancerKind.AUX_LOSS, 0, 1e-4, 2, Precision.FP32),
                new Arm("aux-loss a=1e-3", BalancerKind.AUX_LOSS, 0, 1e-3, 2, Precision.FP32),
                new Arm("aux-loss a=1e-2", BalancerKind.AUX_LOSS, 0, 1e-2, 2, Precision.FP32),
                new Arm("loss-free g=1e-4", BalancerKind.LOSS_FREE, 1e-4f, 0, 2, Precision.FP32),
                new Arm(MAIN_ARM, BalancerKind.LOSS_FREE, 1e-3f, 0, 2, Precision.FP32),
                new Arm("loss-free g=1e-2", BalancerKind.LOSS_FREE, 1e-2f, 0, 2, Precision.FP32),
                new Arm("loss-free g=1e-3 group-limited M=1 of 4", BalancerKind.LOSS_FREE, 1e-3f, 0, 1, Precision.FP32),
                new Arm("loss-free g=1e-3 unrestricted M=4 of 4", BalancerKind.LOSS_FREE, 1e-3f, 0, 4, Precision.FP32),
                new Arm(FP8_ARM, BalancerKind.LOSS_FREE, 1e-3f, 0, 2, Precision.FP8));
        Backend backend = Routers.resolveAuto() == Backend.JAVA ? Backend.JAVA : Backend.CPU;
        List<Outcome> outcomes = readDone(out);
        for (long seed = 1; seed <= seeds; seed++) {
            for (Arm arm : arms) {
                if (find(outcomes, arm.name(), seed) != null) {
                    continue;
                }
                TransformerConfig c = new TransformerConfig(full.layers(), full.dim(), full.heads(), full.seqLen(), full.experts(),
                        full.groups(), arm.topkGroups(), full.topk(), full.sharedExperts(), full.expertDim(), full.preset());
                TrainSettings s = new TrainSettings(c, 16, steps, 3e-3, Math.max(1, steps / 10), seed, Math.max(1, steps / 10),
                        arm.balancer(), arm.gamma(), arm.alpha(), TrainSettings.DEFAULT_WEIGHT_DECAY,
                        TrainSettings.DEFAULT_CLIP_NORM, arm.precision());
                Trainer t = new Trainer(s, corpus, new SelfCommunicator(), Gemms.create(backend),
                        Routers.create(c.routing(), backend));
                List<TrainRecord> rows = new ArrayList<>();
                long t0 = System.nanoTime();
                t.run(steps, rows::add);
                double seconds = (System.nanoTime() - t0) / 1e9;
                StringBuilder csv = new StringBuilder(TrainRecord.CSV_HEADER).append('\n');
                rows.forEach(r -> csv.append(r.csv()).append('\n'));
                AtomicFiles.write(out.resolve(fileName(arm.name(), seed) + ".csv"), csv.toString().getBytes(StandardCharsets.US_ASCII));
                Outcome o = outcome(arm.name(), seed, seconds, rows);
                outcomes.add(o);
                System.out.printf(Locale.ROOT, "%-40s seed %d: %.4f bits/byte, MaxVio_global %.3f, interference ratio %.3g, "
                        + "%.0f s%n", arm.name(), seed, o.valLoss() / Math.log(2), o.maxVioGlobal(), o.meanInterferenceRatio(), seconds);
                writeResults(out, outcomes, arms, full, steps, corpus, backend);
            }
        }
        writeResults(out, outcomes, arms, full, steps, corpus, backend);
    }

    private static Outcome outcome(String arm, long seed, double seconds, List<TrainRecord> rows) {
        TrainRecord last = rows.get(rows.size() - 1);
        List<TrainRecord> evals = rows.stream().filter(TrainRecord::evaluated).toList();
        return new Outcome(arm, seed, last.valLoss(), last.maxVioGlobal(),
                rows.stream().mapToDouble(TrainRecord::interferenceNorm).average().orElse(0),
                rows.stream().mapToDouble(TrainRecord::interferenceRatio).average().orElse(0),
                last.groupsPerToken(), seconds,
                evals.stream().mapToDouble(TrainRecord::step).toArray(),
                evals.stream().mapToDouble(TrainRecord::valLoss).toArray(),
                evals.stream().mapToDouble(TrainRecord::maxVioGlobal).toArray());
    }

    /** The runs an earlier start of the study finished: summary.csv rows whose run CSV is present. */
    private static List<Outcome> readDone(Path out) throws IOException {
        List<Outcome> done = new ArrayList<>();
        Path summary = out.resolve("summary.csv");
        if (!Files.isRegularFile(summary)) {
            return done;
        }
        List<String> lines = Files.readAllLines(summary, StandardCharsets.US_ASCII);
        if (lines.isEmpty() || !lines.get(0).equals(SUMMARY_HEADER)) {
            throw new IOException(summary + ": not a summary of this study (header differs); use another directory");
        }
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            Path runCsv = out.resolve(fileName(f[0], Long.parseLong(f[1])) + ".csv");
            if (!Files.isRegularFile(runCsv)) {
                continue;
            }
            List<double[]> evals = new ArrayList<>();
            List<String> rows = Files.readAllLines(runCsv, StandardCharsets.US_ASCII);
            for (String row : rows.subList(1, rows.size())) {
                String[] r = row.split(",", -1);
                if (!r[2].isEmpty()) {
                    evals.add(new double[] {Double.parseDouble(r[0]), Double.parseDouble(r[2]), Double.parseDouble(r[4])});
                }
            }
            done.add(new Outcome(f[0], Long.parseLong(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[4]),
                    Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]), Double.parseDouble(f[8]),
                    evals.stream().mapToDouble(e -> e[0]).toArray(), evals.stream().mapToDouble(e -> e[1]).toArray(),
                    evals.stream().mapToDouble(e -> e[2]).toArray()));
        }
        System.out.printf(Locale.ROOT, "continuing: %d runs already in %s%n", done.size(), summary);
        return done;
    }

    private static Outcome find(List<Outcome> outcomes, String arm, long seed) {
        return outcomes.stream().filter(o -> o.arm().equals(arm) && o.seed() == seed).findFirst().orElse(null);
    }

    private static void writeResults(Path out, List<Outcome> outcomes, List<Arm> arms, TransformerConfig c, int steps,
                                     Corpus corpus, Backend backend) throws IOException {
        StringBuilder summary = new StringBuilder(SUMMARY_HEADER).append('\n');
        for (Outcome o : outcomes) {
            summary.append(String.format(Locale.ROOT, "%s,%d,%.5f,%.5f,%.4f,%.4g,%.4g,%.4f,%.1f%n", o.arm(), o.seed(),
                    o.valLoss(), o.valLoss() / Math.log(2), o.maxVioGlobal(), o.meanInterference(), o.meanInterferenceRatio(),
                    o.groupsPerToken(), o.seconds()));
        }
        AtomicFiles.write(out.resolve("summary.csv"), summary.toString().getBytes(StandardCharsets.US_ASCII));
        AtomicFiles.write(out.resolve("summary.md"), table(outcomes, arms, c, steps, corpus, backend).getBytes(StandardCharsets.UTF_8));
        plots(out, outcomes);
    }

    private static String fileName(String arm, long seed) {
        return arm.replaceAll("[^A-Za-z0-9]+", "_").replaceAll("_+$", "") + "_seed" + seed;
    }

    private static String table(List<Outcome> outcomes, List<Arm> arms, TransformerConfig c, int steps, Corpus corpus,
                                Backend backend) {
        Map<String, List<Outcome>> byArm = new LinkedHashMap<>();
        for (Arm arm : arms) {
            List<Outcome> list = outcomes.stream().filter(o -> o.arm().equals(arm.name())).toList();
            if (!list.isEmpty()) {
                byArm.put(arm.name(), list);
            }
        }
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Model: %d layers, dim %d, %d heads, seq %d, %d routed experts (top-%d, %d of %d "
                + "groups unless noted) + %d shared, expert width %d, %d parameters; batch 16, %d steps, AdamW lr 3e-3; "
                + "%d training and %d held-out bytes; backend %s.%n%n", c.layers(), c.dim(), c.heads(), c.seqLen(), c.experts(),
                c.topk(), c.topkGroups(), c.groups(), c.sharedExperts(), c.expertDim(), c.parameterCount(), steps,
                corpus.trainBytes(), corpus.heldOutBytes(), backend.cliName()));
        md.append("| arm | seeds | held-out bits/byte | MaxVio_global | interference ‖∂L_aux/∂W_g‖ | ratio to LM gradient | "
                + "groups per token | seconds per run |\n|---|---|---|---|---|---|---|---|\n");
        byArm.forEach((name, list) -> md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %.0f |%n", name,
                list.size(), meanSd(list, o -> o.valLoss() / Math.log(2), "%.4f"), meanSd(list, Outcome::maxVioGlobal, "%.3f"),
                meanSd(list, Outcome::meanInterference, "%.3g"), meanSd(list, Outcome::meanInterferenceRatio, "%.3g"),
                meanSd(list, Outcome::groupsPerToken, "%.3f"), list.stream().mapToDouble(Outcome::seconds).average().orElse(0))));
        md.append("\nMeans ± standard deviations over seeds (sample deviation; 0 with one seed).\n");
        // Seeds fix the initialisation and the data order, so an arm minus "none" on the same seed removes
        // most of the seed-to-seed spread of the loss.
        md.append("\n| arm | Δ held-out bits/byte against none, same seed | seeds |\n|---|---|---|\n");
        byArm.forEach((name, list) -> {
            List<Double> deltas = new ArrayList<>();
            for (Outcome o : list) {
                Outcome none = find(outcomes, "none", o.seed());
                if (none != null && !name.equals("none")) {
                    deltas.add((o.valLoss() - none.valLoss()) / Math.log(2));
                }
            }
            if (!deltas.isEmpty()) {
                double mean = deltas.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                double var = deltas.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / Math.max(1, deltas.size() - 1);
                md.append(String.format(Locale.ROOT, "| %s | %+.4f ± %.4f | %d |%n", name, mean, Math.sqrt(var), deltas.size()));
            }
        });
        List<String> gaps = new ArrayList<>();
        for (Outcome fp8 : outcomes) {
            Outcome fp32 = fp8.arm().equals(FP8_ARM) ? find(outcomes, MAIN_ARM, fp8.seed()) : null;
            if (fp32 != null) {
                gaps.add(String.format(Locale.ROOT, "seed %d: %+.3f %%", fp8.seed(), 100 * (fp8.valLoss() / fp32.valLoss() - 1)));
            }
        }
        if (!gaps.isEmpty()) {
            md.append("\nFP8 against FP32, same seed, relative held-out loss (FP8 / FP32 − 1): ")
                    .append(String.join("; ", gaps)).append(".\n");
        }
        return md.toString();
    }

    private static String meanSd(List<Outcome> list, ToDoubleFunction<Outcome> f, String fmt) {
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
            if (o.seed() != 1 || o.evalSteps().length == 0) {
                continue;
            }
            double[] bits = Arrays.stream(o.evalLoss()).map(v -> v / Math.log(2)).toArray();
            loss.addSeries(o.arm(), o.evalSteps(), bits).setMarker(SeriesMarkers.NONE);
            vio.addSeries(o.arm(), o.evalSteps(), o.evalMaxVio()).setMarker(SeriesMarkers.NONE);
        }
        if (!loss.getSeriesMap().isEmpty()) {
            AtomicFiles.write(out.resolve("held-out-loss.png"), BitmapEncoder.getBitmapBytes(loss, BitmapEncoder.BitmapFormat.PNG));
            AtomicFiles.write(out.resolve("maxvio-global.png"), BitmapEncoder.getBitmapBytes(vio, BitmapEncoder.BitmapFormat.PNG));
        }
    }
}
