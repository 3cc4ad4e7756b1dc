package dev.moe.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

import dev.moe.backend.BackendUnavailableException;
import dev.moe.io.FileArgumentException;
import dev.moe.io.NpyFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./moe} command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage or input. */
@Command(name = "moe", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = "DeepSeek-style MoE routing: fused gating, load balancing and FP8 expert kernels.",
        subcommands = {RouteCommand.class, SimulateCommand.class, TrainCommand.class, EplbCommand.class, LayerCommand.class, Fp8Command.class, SoakCommand.class, CheckCommand.class, VersionCommand.class, DemoCommand.class, BenchCommand.class})
public final class MoeCli implements Callable<Integer> {
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The entry point of {@code ./moe}: runs the CLI on the standard streams and exits the JVM with its
     * exit code. Uses the CLI's logback configuration unless {@code logback.configurationFile} is set.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "dev/moe/cli/logback-cli.xml");
        }
        System.exit(run(args));
    }

    /**
     * Runs the CLI on the standard streams and returns its exit code (used by tests too); does not exit.
     *
     * @param args the command line
     * @return 0 success, 1 runtime failure, 2 bad usage or input
     */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs the CLI with the given output streams and returns its exit code; does not exit.
     *
     * @param out receives normal output
     * @param err receives error messages (one line each, prefixed {@code moe:})
     * @param args the command line
     * @return 0 success, 1 runtime failure, 2 bad usage or input
     */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new MoeCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(MoeCli::handle);
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("moe: " + ex.getMessage() + " (see --help)");
            return EXIT_USAGE;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("moe: out of memory (" + e.getMessage() + "); give the JVM more with MOE_JAVA_OPTS=-Xmx...");
            return EXIT_FAILURE;
        }
    }

    /** {@code moe} without a command: the usage, on stderr, and exit 2. */
    @Override
    public Integer call() {
        return missingSubcommand(spec);
    }

    /** A command group run without its subcommand: prints the group's usage on stderr; returns exit code 2. */
    static int missingSubcommand(CommandLine.Model.CommandSpec spec) {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    private static int handle(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        Throwable e = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        if (e instanceof UsageException || e instanceof IllegalArgumentException || e instanceof NpyFormatException
                || e instanceof FileArgumentException || e instanceof BackendUnavailableException
                || e instanceof java.nio.file.NoSuchFileException) {
            err.println("moe: " + oneLine(e));
            return EXIT_USAGE;
        }
        if (e instanceof IOException) {
            err.println("moe: I/O error: " + oneLine(e));
            return EXIT_FAILURE;
        }
        err.println("moe: " + e.getClass().getSimpleName() + ": " + oneLine(e));
        if (Boolean.getBoolean("moe.debug")) {
            e.printStackTrace(err);
        }
        return EXIT_FAILURE;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            m = "no such file: " + m;
        }
        return m == null ? e.getClass().getSimpleName() : m.replace('\n', ' ');
    }
}
