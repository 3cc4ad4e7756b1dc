package dev.moe.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CLI in its own JVM, as {@code ./moe} runs it but without {@code --add-modules jdk.incubator.vector}:
 * what a user sees on stdout and stderr, including the JVM's own warnings and the log lines.
 */
final class CliProcess {
    private CliProcess() {}

    /** A finished run. */
    record Result(int code, String out, String err) {}

    /** Starts {@code moe args...}; native libraries are extracted into {@code cache}. */
    static Process start(Path cache, String... args) throws IOException {
        return builder(cache, args).start();
    }

    private static ProcessBuilder builder(Path cache, String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, MoeCli.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        return pb;
    }

    /** Runs {@code moe args...} to completion (at most a minute); stdout and stderr go through files in {@code cache}. */
    static Result run(Path cache, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(cache, "stdout", ".txt");
        Path err = Files.createTempFile(cache, "stderr", ".txt");
        Process p = builder(cache, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("moe " + String.join(" ", args) + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
            Files.delete(out);
            Files.delete(err);
        }
    }
}
