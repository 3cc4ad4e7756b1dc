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
import java.util.function.UnaryOperator;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import dev.moe.backend.Backend;
import dev.moe.balance.BiasUpdateRule;
import dev.moe.io.AtomicFiles;
import dev.moe.routing.GroupScore;
import dev.moe.routing.RoutingConfig;
import dev.moe.sim.BalancerKind;
import dev.moe.sim.SimulationResult;
import dev.moe.sim.SimulationSettings;
import dev.moe.sim.Simulator;
import dev.moe.sim.StepRecord;
import dev.moe.sim.Workload;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;

/**
 * The load-balancing study (docs/specification.md §l "simulation targets"): runs the simulator over the
 * sweeps below and writes PNG plots, a summary CSV and the tables of a markdown report into one
 * directory. Deterministic (fixed seeds); takes ~10 minutes on 2 cores.
 *
 * <pre>java -cp benchmarks.jar dev.moe.bench.BalancingStudy OUT_DIR [steps]</pre>
 */
public final class BalancingStudy {
    private static final int TOKENS = 8192;
    private static final long SEED = 1;

    private final Path out;
    private final int steps;
    private final List<String> summary = new ArrayList<>();
    private final StringBuilder md = new StringBuilder();

    private BalancingStudy(Path out, int steps) {
        this.out = out;
        this.steps = steps;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: BalancingStudy OUT_DIR [steps]");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        BalancingStudy s = new BalancingStudy(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 2000);
        Files.createDirectories(s.out);
        s.run();
    }

    private void run() throws IOException {
        summary.add("experiment,run,maxvio_batch_first500,maxvio_batch_last500,maxvio_global,mean_aux_grad_norm,"
                + "cross_node_sends_per_token,mean_nodes_per_token,max_nodes_per_token,dropped");
        md.append(String.format(Locale.ROOT, "Workload skewed unless stated; DeepSeek-V3 router (N 256, K 8, 8 nodes x 8 GPUs, "
                + "node limit 4); %d steps x %d tokens; seed %d; cpu backend.%n%n", steps, TOKENS, SEED));
        gammaSweep();
        gammaSweepDrift();
        updateRules();
        alphaSweep();
        traffic();
        AtomicFiles.write(out.resolve("summary.csv"), (String.join("\n", summary) + "\n").getBytes(StandardCharsets.US_ASCII));
        AtomicFiles.write(out.resolve("tables.md"), md.toString().getBytes(StandardCharsets.UTF_8));
        System.out.print(md);
    }

    private SimulationSettings.Builder base() {
        return SimulationSettings.builder().steps(steps).tokensPerStep(TOKENS).workload(Workload.SKEWED).seed(SEED)
                .backend(Backend.CPU).heldOutTokens(16384);
    }

    private SimulationResult run(String experiment, String name, SimulationSettings s) {
        long t0 = System.nanoTime();
        SimulationResult r = new Simulator(s).run(x -> { });
        System.err.printf(Locale.ROOT, "%s / %s: %.1f s%n", experiment, name, (System.nanoTime() - t0) / 1e9);
        List<StepRecord> st = r.steps();
        int half = Math.min(500, st.size());
        double tokens = (double) st.size() * s.tokensPerStep() * s.layers();
        summary.add(String.format(Locale.ROOT, "%s,%s,%.4f,%.4f,%.4f,%.4g,%.4f,%.4f,%d,%d", experiment, name,
                st.subList(0, half).stream().mapToDouble(StepRecord::maxVioBatch).average().orElse(0),
                r.meanMaxVioLast(half), r.maxVioGlobal(), st.stream().mapToDouble(StepRecord::auxGradNorm).average().orElse(0),
                r.totalCrossNodeSends() / tokens, st.stream().mapToDouble(StepRecord::meanNodesPerToken).average().orElse(0),
                st.stream().mapToInt(StepRecord::maxNodesPerToken).max().orElse(0), r.totalDropped()));
        return r;
    }

    /** γ ∈ {1e-4, 1e-3, 1e-2}, sign rule ([LF] §4.3: 1e-4 slow, 1e-2 oscillates late). */
    private void gammaSweep() throws IOException {
        Map<String, SimulationResult> runs = new LinkedHashMap<>();
        runs.put("none", run("gamma", "none", base().balancer(BalancerKind.NONE).build()));
        for (float g : new float[] {1e-4f, 1e-3f, 1e-2f}) {
            String name = "gamma=" + fmt(g);
            runs.put(name, run("gamma", name, base().gamma(g).build()));
        }
        curves("gamma.png", "Loss-free, sign rule: MaxVio_batch (100-step mean) by update speed", runs, true);
        table("Update speed γ (sign rule)", runs);
    }

    /** The same γ sweep on the drift workload: the domain mix turns over every 500 steps, so tracking speed matters. */
    private void gammaSweepDrift() throws IOException {
        Map<String, SimulationResult> runs = new LinkedHashMap<>();
        runs.put("none", run("gamma-drift", "none", base().workload(Workload.DRIFT).balancer(BalancerKind.NONE).build()));
        for (float g : new float[] {1e-4f, 1e-3f, 1e-2f}) {
            String name = "gamma=" + fmt(g);
            runs.put(name, run("gamma-drift", name, base().workload(Workload.DRIFT).gamma(g).build()));
        }
        curves("gamma-drift.png", "Loss-free, sign rule, drift workload: MaxVio_batch (100-step mean)", runs, true);
        table("Update speed γ (sign rule), drift workload", runs);
    }

    /** Sign vs proportional vs multiplicative ([LF] Table 3/4). */
    private void updateRules() throws IOException {
        Map<String, SimulationResult> runs = new LinkedHashMap<>();
        runs.put("sign 1e-3", run("rule", "sign 1e-3", base().gamma(1e-3f).build()));
        for (float g : new float[] {1e-3f, 1e-2f}) {
            String name = "proportional " + fmt(g);
            runs.put(name, run("rule", name, base().gamma(g).rule(BiasUpdateRule.PROPORTIONAL).build()));
        }
        runs.put("multiplicative 1e-3", run("rule", "multiplicative 1e-3",
                base().gamma(1e-3f).rule(BiasUpdateRule.MULTIPLICATIVE).build()));
        curves("rules.png", "Loss-free update rules: MaxVio_batch (100-step mean)", runs, false);
        table("Update rule", runs);
    }

    /** Aux-loss α sweep against loss-free: balance vs the gradient the loss injects; MaxVio by computation batch. */
    private void alphaSweep() throws IOException {
        Map<String, SimulationResult> runs = new LinkedHashMap<>();
        runs.put("none", run("alpha", "none", base().balancer(BalancerKind.NONE).build()));
        runs.put("loss-free 1e-3", run("alpha", "loss-free 1e-3", base().gamma(1e-3f).build()));
        for (float a : new float[] {1e-4f, 1e-3f, 1e-2f, 3e-2f}) {
            String name = "aux alpha=" + fmt(a);
            runs.put(name, run("alpha", name, base().balancer(BalancerKind.AUX_LOSS).alpha(a).build()));
        }
        curves("alpha.png", "Aux-loss alpha sweep vs loss-free: MaxVio_batch (100-step mean)", runs, true);
        tradeOff(runs);
        batchSizes(runs);
        table("Aux-loss α sweep (SGD on per-expert logit offsets, lr " + fmt(SimulationSettings.DEFAULT_AUX_LEARNING_RATE)
                + ") vs loss-free", runs);
    }

    /** V3 node-limited (groups = 8 nodes, M = 4) vs V2's device-limited rule (groups = 64 GPUs, max score, M = 3) on one workload. */
    private void traffic() throws IOException {
        Map<String, SimulationResult> runs = new LinkedHashMap<>();
        Topology topo = Topology.contiguous(8, 8, 256);
        RoutingConfig v3 = RoutingConfig.deepseekV3();
        UnaryOperator<SimulationSettings.Builder> lf = b -> b.gamma(1e-3f);
        runs.put("node-limited M=4", run("traffic", "node-limited M=4", lf.apply(base()).build()));
        for (int m : new int[] {3, 4}) {
            RoutingConfig dev = v3.toBuilder().groups(64).groupScore(GroupScore.MAX).topkGroups(m).build();
            String name = "device-limited M=" + m;
            runs.put(name, run("traffic", name, lf.apply(base()).routing(dev, topo, GroupScope.DEVICE).build()));
        }
        RoutingConfig unlimited = v3.toBuilder().groups(8).topkGroups(8).build();
        runs.put("no limit", run("traffic", "no limit", lf.apply(base()).routing(unlimited, topo, GroupScope.NODE).build()));
        md.append("### Cross-node traffic, same model and workload (loss-free γ 1e-3)\n\n")
                .append("| routing | cross-node sends / token | mean nodes / token | max nodes / token | MaxVio_batch last 500 |\n")
                .append("|---|---|---|---|---|\n");
        double tokens = (double) steps * TOKENS;
        runs.forEach((name, r) -> md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %d | %.3f |%n", name,
                r.totalCrossNodeSends() / tokens, r.steps().stream().mapToDouble(StepRecord::meanNodesPerToken).average().orElse(0),
                r.steps().stream().mapToInt(StepRecord::maxNodesPerToken).max().orElse(0), r.meanMaxVioLast(500))));
        md.append('\n');
    }

    private void curves(String file, String title, Map<String, SimulationResult> runs, boolean log) throws IOException {
        XYChart c = new XYChartBuilder().width(1000).height(500).title(title).xAxisTitle("step").yAxisTitle("MaxVio_batch").build();
        c.getStyler().setYAxisLogarithmic(log);
        runs.forEach((name, r) -> {
            double[] x = r.steps().stream().mapToDouble(StepRecord::step).toArray();
            double[] y = r.maxVioMovingAverage(100);
            c.addSeries(name, x, y).setMarker(SeriesMarkers.NONE);
        });
        BitmapEncoder.saveBitmap(c, out.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private void tradeOff(Map<String, SimulationResult> runs) throws IOException {
        XYChart c = new XYChartBuilder().width(800).height(500).title("Balance vs interference (aux-loss alpha sweep)")
                .xAxisTitle("mean |dL/dz| injected into the router").yAxisTitle("MaxVio_global").build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        runs.forEach((name, r) -> {
            if (name.startsWith("aux")) {
                double g = r.steps().stream().mapToDouble(StepRecord::auxGradNorm).average().orElse(0);
                c.addSeries(name, new double[] {g}, new double[] {r.maxVioGlobal()});
            }
        });
        BitmapEncoder.saveBitmap(c, out.resolve("alpha-tradeoff.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private void batchSizes(Map<String, SimulationResult> runs) throws IOException {
        XYChart c = new XYChartBuilder().width(800).height(500).title("MaxVio by computation-batch size (held-out tokens, final state)")
                .xAxisTitle("tokens per computation batch").yAxisTitle("MaxVio").build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        md.append("### MaxVio_computation-batch (held-out tokens, final bias/offsets)\n\n| run |");
        int[] sizes = runs.values().iterator().next().computationBatches();
        for (int b : sizes) {
            md.append(' ').append(b).append(" |");
        }
        md.append("\n|---|").append("---|".repeat(sizes.length)).append('\n');
        runs.forEach((name, r) -> {
            double[] x = new double[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                x[i] = sizes[i];
            }
            c.addSeries(name, x, r.maxVioByBatch());
            md.append("| ").append(name).append(" |");
            for (double v : r.maxVioByBatch()) {
                md.append(String.format(Locale.ROOT, " %.3f |", v));
            }
            md.append('\n');
        });
        md.append('\n');
        BitmapEncoder.saveBitmap(c, out.resolve("batch-size.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private void table(String title, Map<String, SimulationResult> runs) {
        md.append("### ").append(title).append("\n\n")
                .append("| run | MaxVio_batch first 500 | MaxVio_batch last 500 | MaxVio_global | mean injected grad norm |\n")
                .append("|---|---|---|---|---|\n");
        runs.forEach((name, r) -> {
            int half = Math.min(500, r.steps().size());
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.3g |%n", name,
                    r.steps().subList(0, half).stream().mapToDouble(StepRecord::maxVioBatch).average().orElse(0),
                    r.meanMaxVioLast(half), r.maxVioGlobal(),
                    r.steps().stream().mapToDouble(StepRecord::auxGradNorm).average().orElse(0)));
        });
        md.append('\n');
    }

    private static String fmt(float v) {
        return String.format(Locale.ROOT, "%.0e", v).replace("e-0", "e-").replace("e+0", "e");
    }
}
