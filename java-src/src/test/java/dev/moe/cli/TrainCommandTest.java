package dev.moe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code moe train} against its contract: columns, summary line, exit codes, stop/save/resume rows. */
class TrainCommandTest {
    @TempDir
    Path dir;

    private Path corpus(int bytes) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < bytes; i++) {
            sb.append("It was the ").append(i % 7 == 0 ? "best" : "worst").append(" of times, line ").append(i).append(".\n");
        }
        Path p = dir.resolve("corpus.txt");
        Files.writeString(p, sb.substring(0, bytes));
        return p;
    }

    /** The command with small defaults; a flag in {@code extra} replaces the default of the same name. */
    private String[] args(Path corpus, String csv, String... extra) {
        java.util.Map<String, String> flags = new java.util.LinkedHashMap<>();
        String[] defaults = {"--corpus", corpus.toString(), "--steps", "6", "--layers", "1", "--dim", "16", "--heads", "2",
            "--seq", "16", "--batch", "4", "--experts", "8", "--expert-dim", "16", "--eval-every", "3", "--warmup", "2",
            "--backend", "java", "--csv", dir.resolve(csv).toString()};
        for (int i = 0; i < defaults.length; i += 2) {
            flags.put(defaults[i], defaults[i + 1]);
        }
        for (int i = 0; i < extra.length; i += 2) {
            flags.put(extra[i], extra[i + 1]);
        }
        List<String> a = new ArrayList<>(List.of("train"));
        flags.forEach((k, v) -> {
            a.add(k);
            a.add(v);
        });
        return a.toArray(String[]::new);
    }

    @Test
    void writesTheColumnsAndTheSummaryLine() throws IOException {
        MoeCliTest.Result r = MoeCliTest.cli(args(corpus(8000), "run.csv", "--plot", dir.resolve("run.png").toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("final val_loss "), r.out());
        assertTrue(r.out().contains("nats/byte") && r.out().contains("MaxVio_global") && r.out().contains("tokens dropped 0")
                && r.out().contains("tokens/s"), r.out());
        List<String> lines = Files.readAllLines(dir.resolve("run.csv"));
        assertTrue(lines.get(0).startsWith("step,train_loss,val_loss,maxvio_batch,maxvio_global,aux_loss,router_grad_norm,"
                + "interference_norm"), lines.get(0));
        assertEquals(7, lines.size());
        assertTrue(lines.get(1).split(",", -1)[2].isEmpty(), "no evaluation at step 1: " + lines.get(1));
        assertFalse(lines.get(3).split(",", -1)[2].isEmpty(), "evaluation at step 3: " + lines.get(3));
        assertFalse(lines.get(6).split(",", -1)[4].isEmpty(), "evaluation at the last step: " + lines.get(6));
        assertTrue(Files.size(dir.resolve("run.png")) > 1000);
    }

    @Test
    void stopSaveAndResumeGiveTheRowsOfOneRun() throws IOException {
        Path c = corpus(8000);
        assertEquals(0, MoeCliTest.cli(args(c, "whole.csv")).code());
        String ck = dir.resolve("ck.safetensors").toString();
        assertEquals(0, MoeCliTest.cli(args(c, "first.csv", "--stop-after", "4", "--save", ck)).code());
        MoeCliTest.Result r = MoeCliTest.cli(args(c, "second.csv", "--resume", ck));
        assertEquals(0, r.code(), r.err());
        List<String> whole = Files.readAllLines(dir.resolve("whole.csv"));
        List<String> joined = new ArrayList<>(Files.readAllLines(dir.resolve("first.csv")));
        List<String> second = Files.readAllLines(dir.resolve("second.csv"));
        assertEquals(whole.get(0), second.get(0), "the resumed file has the header");
        joined.addAll(second.subList(1, second.size()));
        assertEquals(whole, joined);
        MoeCliTest.Result other = MoeCliTest.cli(args(c, "third.csv", "--resume", ck, "--seed", "2"));
        assertEquals(2, other.code());
        assertTrue(other.err().contains("--seed"), other.err());
    }

    @Test
    void aCorpusTooShortForEitherSplitIsBadInput() throws IOException {
        MoeCliTest.Result r = MoeCliTest.cli(args(corpus(300), "short.csv"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("corpus too short"), r.err());
        assertFalse(Files.exists(dir.resolve("short.csv")));
    }

    @Test
    void theCorpusIsNeverAnOutputAndHugeModelsAreRefusedUpFront() throws IOException {
        Path c = corpus(8000);
        byte[] before = Files.readAllBytes(c);
        MoeCliTest.Result same = MoeCliTest.cli(args(c, "x.csv", "--save", c.toString()));
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains("--save") && same.err().contains("--corpus"), same.err());
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, Files.readAllBytes(c));
        MoeCliTest.Result huge = MoeCliTest.cli(args(c, "y.csv", "--dim", "1024", "--seq", "4096", "--batch", "64"));
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().contains("needs about"), huge.err());
        assertFalse(Files.exists(dir.resolve("x.csv")) || Files.exists(dir.resolve("y.csv")));
    }

    @Test
    void badFlagsAreBadInput() throws IOException {
        Path c = corpus(8000);
        String[][] cases = {{"--dim", "15"}, {"--experts", "6", "--groups", "4"}, {"--precision", "fp16"},
            {"--balancer", "magic"}, {"--batch", "0"}, {"--stop-after", "9"}};
        String[] expected = {"--dim 15", "N mod G", "--precision", "magic", "--batch", "--stop-after"};
        for (int i = 0; i < cases.length; i++) {
            MoeCliTest.Result r = MoeCliTest.cli(args(c, "bad.csv", cases[i]));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(expected[i]), String.join(" ", cases[i]) + ": " + r.err());
        }
    }
}
