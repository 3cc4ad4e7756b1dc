package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./moe} launcher's JVM command line, run against a stand-in JDK whose {@code java} prints its
 * arguments: the incubating Vector API module (whose resolution makes the JVM print a warning on every
 * start) is added only for the command that uses it.
 */
class LauncherTest {
    @TempDir
    Path dir;

    private Path checkout() throws IOException {
        Path root = dir.resolve("checkout");
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(root.resolve(".mvn"));
        Files.copy(repo.resolve("moe"), root.resolve("moe"));
        Files.copy(repo.resolve(".mvn/find-jdk.sh"), root.resolve(".mvn/find-jdk.sh"));
        Files.copy(repo.resolve(".mvn/launcher-build.sh"), root.resolve(".mvn/launcher-build.sh"));
        Files.createDirectories(root.resolve("java-src/target"));
        Files.writeString(root.resolve("java-src/target/moe-routing-0.0.0-cli.jar"), "");  // newer than any source: no build
        return root;
    }

    private Path fakeJdk() throws IOException {
        Path jdk = dir.resolve("jdk");
        Files.createDirectories(jdk.resolve("bin"));
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25\"\n");
        for (String tool : List.of("java", "javac")) {
            Path p = Files.writeString(jdk.resolve("bin").resolve(tool), "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return jdk;
    }

    private List<String> jvmArguments(Path root, Path jdk, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("moe").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().remove("MOE_JAVA_OPTS");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    @Test
    void theVectorModuleIsAddedOnlyForTheFp8GemmBenchmark() throws Exception {
        Path root = checkout();
        Path jdk = fakeJdk();
        for (String[] args : new String[][] {{}, {"route", "--help"}, {"simulate", "--csv", "x.csv"}, {"bench", "route"},
            {"fp8", "gemm"}, {"version"}}) {
            List<String> jvm = jvmArguments(root, jdk, args);
            assertFalse(jvm.contains("jdk.incubator.vector"), String.join(" ", args) + ": " + jvm);
            assertTrue(jvm.contains("--enable-native-access=ALL-UNNAMED"), jvm.toString());
            assertEquals(List.of(args), jvm.subList(jvm.indexOf("-jar") + 2, jvm.size()), "the arguments are passed on as given");
        }
        List<String> bench = jvmArguments(root, jdk, "bench", "fp8-gemm", "--m", "1");
        assertEquals("jdk.incubator.vector", bench.get(bench.indexOf("--add-modules") + 1), bench.toString());
    }
}
