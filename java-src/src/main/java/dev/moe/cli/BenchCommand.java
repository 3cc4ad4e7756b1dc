package dev.moe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moe bench}: in-process timing comparisons of the backends, as JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time the backends on the same data.",
        subcommands = {BenchRouteCommand.class, BenchFp8GemmCommand.class, BenchLayerCommand.class, BenchEpLayerCommand.class, BenchTrainCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
