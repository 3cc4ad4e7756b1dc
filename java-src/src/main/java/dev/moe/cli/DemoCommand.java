package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;
import dev.moe.io.OutputFiles;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.SyntheticLogits;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code moe demo}: routes one generated batch on the Java reference and on the native CPU kernel,
 * checks that they agree, and shows the load per node and the speed of each; then runs the preset's
 * balancing loop as {@code moe simulate} would.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Route a generated batch on java and cpu: load per expert group/node, tokens/s, agreement.",
                "Then run the preset's balancing loop (what `moe simulate --preset P --workload skewed` runs, with its defaults) "
                        + "without and with the loss-free bias, printing the simulate command that reproduces each run."})
final class DemoCommand implements Callable<Integer> {
    @Mixin
    RoutingOptions routing;

    @Option(names = "--tokens", defaultValue = "4096", description = "Tokens in the batch (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic logits (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--skew", defaultValue = "0.5",
            description = "Std-dev of the static per-expert popularity offset (default ${DEFAULT-VALUE}).")
    float skew;

    @Option(names = "--gpus-per-node", defaultValue = "8", description = "GPUs per node, for the per-GPU load (default ${DEFAULT-VALUE}).")
    int gpusPerNode;

    @Option(names = "--seconds", defaultValue = "1",
            description = "Timing budget per backend, > 0 and at most 86400 (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--sim-steps", defaultValue = "300",
            description = "Steps of the balancing-loop simulation that follows (0: skip; default ${DEFAULT-VALUE}).")
    int simSteps;

    @Option(names = "--plot", defaultValue = "moe-demo.png",
            description = "Where the simulation's plot goes (default ${DEFAULT-VALUE}); checked before any work, and the demo "
                    + "fails (exit 1) if it cannot be written.")
    java.nio.file.Path plot;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private record Run(Backend backend, double medianS, int[] ids, float[] weights, long[] load) {}

    @Override
    public Integer call() throws IOException {
        FlagChecks.atLeast("--tokens", tokens, 1);
        FlagChecks.seconds(seconds);
        FlagChecks.nonNegative("--skew", skew);
        FlagChecks.atLeast("--gpus-per-node", gpusPerNode, 1);
        FlagChecks.atLeast("--sim-steps", simSteps, 0);
        RoutingConfig c = routing.toConfig();
        // Logits, ids and weights of the batch (native), their copies per backend (heap), then the simulation.
        MemoryBudget budget = MemoryBudget.of("demo --tokens " + tokens).offHeap(tokens, c.numExperts() + 2L * c.topk(), 4)
                .heap(2, tokens, c.topk(), 8);
        if (simSteps > 0) {
            budget.simulation(simulateSettings(simulateArgs("loss-free", Backend.JAVA)));
        }
        budget.require();
        // The plot's location is checked before any work; a plot that cannot be written fails the command.
        try (OutputFiles outputs = OutputFiles.builder().output("--plot", simSteps > 0 ? plot : null).open()) {
            PrintWriter out = spec.commandLine().getOut();
            out.printf("moe demo: routing %d synthetic tokens with %s (preset %s), seed %d%n", tokens, c, routing.preset, seed);
            List<Run> runs = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment logits = SyntheticLogits.generate(arena, tokens, c.numExperts(), skew, seed);
                for (Backend b : new Backend[] {Backend.JAVA, Backend.CPU}) {
                    BackendStatus st = Backends.status(b);
                    if (!st.usable()) {
                        out.printf("backend %s unusable: %s%n", b.cliName(), st.detail());
                        continue;
                    }
                    runs.add(run(Routers.create(c, b), logits, arena));
                }
            }
            printSpeed(out, runs);
            boolean agree = printAgreement(out, runs);
            printLoad(out, c, runs.getLast().load());
            if (simSteps > 0) {
                outputs.write(plot, simulate(out, runs.getLast().backend()));
                outputs.commit();
                out.printf("  plot of the loss-free run: %s%n", plot.toAbsolutePath());
            }
            out.flush();
            return agree ? 0 : MoeCli.EXIT_FAILURE;
        }
    }

    /** The arguments of the {@code moe simulate} command the demo's balancing run is (and prints). */
    private List<String> simulateArgs(String balancer, Backend backend) {
        return List.of("simulate", "--preset", routing.preset, "--workload", "skewed", "--steps", Integer.toString(simSteps),
                "--tokens-per-step", Integer.toString(tokens), "--balancer", balancer, "--seed", Long.toString(seed),
                "--backend", backend.cliName(), "--csv", "run.csv");
    }

    /** The settings {@code moe simulate} runs for those arguments, with its defaults. */
    private static dev.moe.sim.SimulationSettings simulateSettings(List<String> args) {
        SimulateCommand sim = new SimulateCommand();
        new CommandLine(sim).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
        return sim.settings().build();
    }

    /**
     * A short run of the balancing loop on the preset's cluster (what {@code moe simulate} runs for it, with
     * its defaults): the same skewed router without and with the loss-free bias. Each run is built from
     * the {@code simulate} command line it prints, so that command reproduces its numbers exactly. Returns
     * the loss-free run's plot.
     */
    private byte[] simulate(PrintWriter out, Backend backend) throws IOException {
        dev.moe.sim.SimulationResult last = null;
        for (String balancer : new String[] {"none", "loss-free"}) {
            List<String> args = simulateArgs(balancer, backend);
            dev.moe.sim.SimulationSettings settings = simulateSettings(args);
            if (last == null) {
                var t = settings.topology();
                out.printf("%nbalancing loop (%s, as `moe simulate` runs it): %d steps x %d tokens, skewed workload, %d node(s) x %d "
                        + "GPUs, %s-limited routing to %d groups, gamma %s, on %s%n", routing.preset, simSteps, tokens, t.nodes(),
                        t.gpusPerNode(), settings.scope().name().toLowerCase(java.util.Locale.ROOT),
                        settings.config().topkGroups(), settings.gamma(), backend.cliName());
                if (routing.overridesGiven()) {
                    out.println("  (the routing flags shaped the batch above; the balancing loop runs the preset, as simulate does)");
                }
            }
            last = new dev.moe.sim.Simulator(settings).run(r -> { });
            out.printf(java.util.Locale.ROOT, "  %-9s MaxVio_batch step 0 %.3f -> final %.3f (last-100 mean %.3f), MaxVio_global %.3f, "
                    + "dropped %d%n", balancer, last.steps().getFirst().maxVioBatch(), last.last().maxVioBatch(),
                    last.meanMaxVioLast(100), last.maxVioGlobal(), last.totalDropped());
            out.printf("            same run: ./moe %s%n", String.join(" ", args));
        }
        return SimulationPlots.png(last, "loss-free, skewed, " + routing.preset + " (demo)");
    }

    private Run run(Router router, MemorySegment logits, Arena arena) {
        long tk = (long) tokens * router.config().topk();
        MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, tk);
        MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, tk);
        MemorySegment load = arena.allocate(ValueLayout.JAVA_LONG, router.config().numExperts());
        router.route(logits, tokens, null, ids, w, load);
        long[] loadOnce = load.toArray(ValueLayout.JAVA_LONG);
        double[] times = Timing.measure(() -> router.route(logits, tokens, null, ids, w, null), seconds);
        return new Run(router.backend(), Timing.median(times), ids.toArray(ValueLayout.JAVA_INT),
                w.toArray(ValueLayout.JAVA_FLOAT), loadOnce);
    }

    private void printSpeed(PrintWriter out, List<Run> runs) {
        double base = runs.getFirst().medianS();
        out.printf("%n%-8s %12s %14s %10s%n", "backend", "median ms", "tokens/s", "vs java");
        for (Run r : runs) {
            out.printf("%-8s %12.3f %,14.0f %9.1fx%n", r.backend().cliName(), r.medianS() * 1e3, tokens / r.medianS(),
                    base / r.medianS());
        }
    }

    private static boolean printAgreement(PrintWriter out, List<Run> runs) {
        if (runs.size() < 2) {
            out.println("\nonly one backend ran: nothing to compare");
            return true;
        }
        Run ref = runs.getFirst();
        boolean all = true;
        for (Run r : runs.subList(1, runs.size())) {
            int mismatches = 0;
            for (int i = 0; i < ref.ids().length; i++) {
                mismatches += ref.ids()[i] != r.ids()[i] ? 1 : 0;
            }
            double maxDiff = 0;
            for (int i = 0; i < ref.weights().length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(ref.weights()[i] - r.weights()[i]));
            }
            boolean ok = mismatches == 0;
            all &= ok;
            out.printf("%nids %s vs %s: %s (%d choices); max |weight difference| %s%n", r.backend().cliName(),
                    ref.backend().cliName(), ok ? "agree" : "DISAGREE in " + mismatches, ref.ids().length,
                    maxDiff == 0 ? "0 (bit-identical)" : String.format("%.3g", maxDiff));
        }
        return all;
    }

    private void printLoad(PrintWriter out, RoutingConfig c, long[] load) {
        int gs = c.groupSize();
        double mean = 0;
        for (long l : load) {
            mean += l;
        }
        mean /= load.length;
        boolean perGpu = gpusPerNode > 0 && gs % gpusPerNode == 0;
        out.printf("%nload per expert group = node (%d nodes x %d experts%s):%n", c.numGroups(), gs,
                perGpu ? ", " + gpusPerNode + " GPUs x " + gs / gpusPerNode + " experts per node" : "");
        out.printf("%-5s %-10s %10s %9s%s%n", "node", "experts", "tokens", "relative", perGpu ? "   GPU load min..max (relative)" : "");
        long max = 0;
        for (long l : load) {
            max = Math.max(max, l);
        }
        for (int g = 0; g < c.numGroups(); g++) {
            long sum = 0;
            for (int i = g * gs; i < (g + 1) * gs; i++) {
                sum += load[i];
            }
            String gpu = "";
            if (perGpu) {
                int per = gs / gpusPerNode;
                double lo = Double.MAX_VALUE;
                double hi = 0;
                for (int p = 0; p < gpusPerNode; p++) {
                    long s = 0;
                    for (int i = g * gs + p * per; i < g * gs + (p + 1) * per; i++) {
                        s += load[i];
                    }
                    lo = Math.min(lo, s / (mean * per));
                    hi = Math.max(hi, s / (mean * per));
                }
                gpu = String.format("   %.2f..%.2f", lo, hi);
            }
            out.printf("%-5d %-10s %10d %9.2f%s%n", g, (g * gs) + "-" + ((g + 1) * gs - 1), sum, sum / (mean * gs), gpu);
        }
        out.printf("MaxVio (max expert load / mean - 1): %.3f   (no balancing applied: bias = 0)%n", (max - mean) / mean);
    }
}
