package dev.moe.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.cli.MoeCli;

/**
 * Four ranks under a real {@code mpirun}, each a JVM running the CLI: the distributed simulation equals the
 * single-process one (so every rank held the same bias: the ranks also compare it every 100 steps), the
 * expert-parallel layer equals the single-process layer bit for bit with nothing lost or duplicated, and
 * a failing rank ends the whole job non-zero instead of hanging. Skipped where MPI is not installed,
 * unless MOE_REQUIRE_MPI=1 (CI sets it, so that CI cannot pass by skipping).
 */
@Tag("mpi")
class MpiJobTest {
    static final long TIMEOUT_S = 180;
    static Path mpirun;

    @BeforeAll
    static void findMpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "mpirun");
            if (Files.isExecutable(p)) {
                mpirun = p;
                return;
            }
        }
        if ("1".equals(System.getenv("MOE_REQUIRE_MPI"))) {
            fail("MOE_REQUIRE_MPI=1 but there is no mpirun on PATH (apt-get install openmpi-bin libopenmpi-dev)");
        }
        Assumptions.abort("no mpirun on PATH: MPI is not installed");
    }

    record Run(int exit, String output) {}

    /** mpirun -np {@code ranks} java ... dev.moe.cli.MoeCli args; output is stdout and stderr of all ranks. */
    static Run mpi(int ranks, Path dir, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", Integer.toString(ranks), java,
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-cp", cp,
                "dev.moe.cli.MoeCli"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mpirun.log").toFile());
        // mpirun refuses root unless told; the sanitizer run's preload must not reach mpirun's own processes.
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().remove("LD_PRELOAD");
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("mpirun did not finish in " + TIMEOUT_S + " s (a hang):\n" + Files.readString(dir.resolve("mpirun.log")));
        }
        return new Run(p.exitValue(), Files.readString(dir.resolve("mpirun.log"), StandardCharsets.UTF_8));
    }

    @Test
    void distributedSimulationEqualsTheSingleProcessRun(@TempDir Path dir) throws Exception {
        String[] common = {"simulate", "--steps", "150", "--tokens-per-step", "4096", "--layers", "2", "--seed", "3",
            "--backend", "cpu"};
        Run run = mpi(4, dir, concat(common, "--mpi", "--csv", dir.resolve("mpi.csv").toString()));
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("4 ranks x 1024 tokens per step"), run.output());
        assertTrue(run.output().contains("2 bias checks passed"), run.output());
        int code = MoeCli.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                concat(common, "--csv", dir.resolve("single.csv").toString()));
        assertEquals(0, code);
        assertEquals(Files.readString(dir.resolve("single.csv")), Files.readString(dir.resolve("mpi.csv")));
    }

    @Test
    void dataParallelTrainingEqualsTheSingleProcessRun(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 20_000; i++) {
            text.append("Line ").append(i).append(": the quick brown fox jumps over the lazy dog ").append(i * 7 % 13).append(".\n");
        }
        Files.writeString(corpus, text);
        String[] common = {"train", "--corpus", corpus.toString(), "--steps", "4", "--layers", "1", "--dim", "32", "--heads",
            "2", "--seq", "32", "--batch", "4", "--experts", "8", "--expert-dim", "32", "--eval-every", "2", "--backend", "cpu"};
        Run run = mpi(2, dir, concat(common, "--mpi", "--csv", dir.resolve("mpi.csv").toString()));
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("final val_loss"), run.output());
        int code = MoeCli.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                concat(common, "--csv", dir.resolve("single.csv").toString()));
        assertEquals(0, code);
        List<String> single = Files.readAllLines(dir.resolve("single.csv"));
        List<String> mpi = Files.readAllLines(dir.resolve("mpi.csv"));
        assertEquals(single.size(), mpi.size());
        for (int i = 1; i < single.size(); i++) {
            String[] a = single.get(i).split(",", -1);
            String[] b = mpi.get(i).split(",", -1);
            assertEquals(a[0], b[0]);
            assertEquals(a[3], b[3], "maxvio_batch counts the same routings: " + single.get(i) + " vs " + mpi.get(i));
            assertEquals(Double.parseDouble(a[1]), Double.parseDouble(b[1]), 1e-4, "train_loss to FP32 rounding");
        }
    }

    @Test
    void expertParallelLayerEqualsTheSingleProcessLayer(@TempDir Path dir) throws Exception {
        Run run = mpi(4, dir, "bench", "ep-layer", "--mpi", "--ranks-per-node", "2", "--experts", "16", "--topk", "4",
                "--hidden", "256", "--intermediate", "128", "--tokens", "48", "--steps", "2", "--combine", "exact", "--check",
                "--backend", "cpu", "--json", dir.resolve("ep.json").toString());
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("check: identical to the single-process layer (49152 values, bit for bit)"), run.output());
        // 4 ranks x 48 tokens x K=4 assignments, each computed exactly once (the command fails otherwise).
        assertTrue(run.output().contains("768 assignments, all computed once"), run.output());
        String json = Files.readString(dir.resolve("ep.json"));
        assertTrue(json.contains("\"dispatch_inter_node\""), json);
    }

    @Test
    void aFailingRankEndsTheWholeJob(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        Run run = mpi(4, dir, "simulate", "--mpi", "--steps", "50", "--tokens-per-step", "2048", "--backend", "cpu",
                "--fail-at", "1:5", "--csv", dir.resolve("never.csv").toString());
        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("injected failure on rank 1 at step 5"), run.output());
        assertTrue((System.nanoTime() - t0) / 1e9 < TIMEOUT_S);
        assertTrue(Files.notExists(dir.resolve("never.csv")), "no output file from a failed job");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
