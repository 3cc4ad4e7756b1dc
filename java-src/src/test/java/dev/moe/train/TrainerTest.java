package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.dist.SelfCommunicator;
import dev.moe.routing.Routers;
import dev.moe.sim.BalancerKind;

/**
 * The training loop end to end on generated text: the loss falls, the loss-free bias ends with lower
 * MaxVio than no balancing, the auxiliary loss reports its interference, and a run stopped, saved and
 * resumed writes exactly the rows of an uninterrupted run.
 */
class TrainerTest {
    private static final Corpus CORPUS = new Corpus(SyntheticText.generate(60_000, 7), 0.05, 32);

    private static TrainSettings settings(BalancerKind balancer, int steps, float gamma) {
        return settings(balancer, steps, gamma, Precision.FP32);
    }

    private static TrainSettings settings(BalancerKind balancer, int steps, float gamma, Precision precision) {
        TransformerConfig model = new TransformerConfig(1, 32, 2, 32, 8, 4, 2, 2, 1, 32, "deepseek-v3");
        return new TrainSettings(model, 8, steps, 1e-2, 5, 3, 20, balancer, gamma, 1e-2, TrainSettings.DEFAULT_WEIGHT_DECAY,
                TrainSettings.DEFAULT_CLIP_NORM, precision);
    }

    private static Trainer trainer(TrainSettings s) {
        return new Trainer(s, CORPUS, new SelfCommunicator(), new JavaGemm(), Routers.reference(s.model().routing()));
    }

    private static List<TrainRecord> run(Trainer t, int last) {
        List<TrainRecord> rows = new ArrayList<>();
        t.run(last, rows::add);
        return rows;
    }

    private static double meanMaxVio(List<TrainRecord> rows, int lastN) {
        return rows.subList(rows.size() - lastN, rows.size()).stream().mapToDouble(TrainRecord::maxVioBatch).average().orElseThrow();
    }

    @Test
    void lossFallsAndTheBiasBalances() {
        List<TrainRecord> free = run(trainer(settings(BalancerKind.LOSS_FREE, 80, 0.02f)), 80);
        List<TrainRecord> none = run(trainer(settings(BalancerKind.NONE, 80, 0f)), 80);
        TrainRecord first = free.get(0);
        TrainRecord last = free.get(free.size() - 1);
        assertTrue(first.trainLoss() > 5.3, "an untrained byte model starts near ln 256: " + first.trainLoss());
        assertTrue(last.valLoss() < first.trainLoss() - 1.5, "loss " + first.trainLoss() + " -> held-out " + last.valLoss());
        assertTrue(last.evaluated() && free.get(19).evaluated() && !free.get(18).evaluated(), "evaluates every 20 and at the end");
        double lf = meanMaxVio(free, 20);
        double nb = meanMaxVio(none, 20);
        assertTrue(lf < nb, "loss-free MaxVio_batch " + lf + " should be below no balancing's " + nb);
        assertTrue(last.maxVioGlobal() < none.get(none.size() - 1).maxVioGlobal(),
                "held-out MaxVio " + last.maxVioGlobal() + " vs " + none.get(none.size() - 1).maxVioGlobal());
        for (TrainRecord r : free) {
            assertEquals(0.0, r.auxLoss());
            assertEquals(0.0, r.interferenceNorm());
        }
    }

    @Test
    void fp8TrainingTracksFp32() {
        List<TrainRecord> fp32 = run(trainer(settings(BalancerKind.LOSS_FREE, 40, 0.02f, Precision.FP32)), 40);
        List<TrainRecord> fp8 = run(trainer(settings(BalancerKind.LOSS_FREE, 40, 0.02f, Precision.FP8)), 40);
        double a = fp32.get(39).valLoss();
        double b = fp8.get(39).valLoss();
        assertTrue(b < fp8.get(0).trainLoss() - 1.0, "FP8 training learns: " + fp8.get(0).trainLoss() + " -> " + b);
        assertTrue(Math.abs(b - a) / a < 0.02, "held-out loss FP8 " + b + " vs FP32 " + a);
        assertTrue(fp32.get(0).trainLoss() != fp8.get(0).trainLoss(), "the FP8 forward differs from FP32");
    }

    @Test
    void theGroupLimitHoldsAndSavesCrossGroupCopies() {
        double limited = groupsPerToken(1);
        double unrestricted = groupsPerToken(4);
        assertEquals(1.0, limited, "with M = 1 both experts of a token sit in one group");
        assertTrue(unrestricted > 1.2, "unrestricted top-2 routing often spans two groups: " + unrestricted);
    }

    private static double groupsPerToken(int topkGroups) {
        TransformerConfig c = new TransformerConfig(1, 32, 2, 32, 8, 4, topkGroups, 2, 1, 32, "deepseek-v3");
        TrainSettings s = new TrainSettings(c, 8, 20, 1e-2, 5, 3, 20, BalancerKind.LOSS_FREE, 0.02f, 0,
                TrainSettings.DEFAULT_WEIGHT_DECAY, TrainSettings.DEFAULT_CLIP_NORM, Precision.FP32);
        return run(trainer(s), 20).get(19).groupsPerToken();
    }

    @Test
    void auxiliaryLossReportsItsInterference() {
        List<TrainRecord> rows = run(trainer(settings(BalancerKind.AUX_LOSS, 10, 0f)), 10);
        for (TrainRecord r : rows) {
            assertTrue(r.auxLoss() > 0, "aux loss at step " + r.step());
            assertTrue(r.interferenceNorm() > 0 && r.interferenceNorm() < r.routerGradNorm() * 10, "interference "
                    + r.interferenceNorm() + " of router gradient " + r.routerGradNorm());
            assertTrue(r.interferenceRatio() > 0);
            assertEquals(null, r.bias());
        }
    }

    @Test
    void resumeGivesTheRowsOfAnUninterruptedRun(@TempDir Path dir) throws Exception {
        for (BalancerKind kind : new BalancerKind[] {BalancerKind.LOSS_FREE, BalancerKind.AUX_LOSS}) {
            TrainSettings s = settings(kind, 24, 0.01f);
            List<TrainRecord> whole = run(trainer(s), 24);
            Trainer first = trainer(s);
            List<TrainRecord> rows = new ArrayList<>(run(first, 11));
            Path ckpt = dir.resolve(kind.cliName() + ".safetensors");
            TrainCheckpoint.save(first, ckpt);
            Trainer second = trainer(s);
            TrainCheckpoint.restore(second, ckpt);
            assertEquals(11, second.completedSteps());
            rows.addAll(run(second, 24));
            assertEquals(whole.stream().map(TrainRecord::csv).toList(), rows.stream().map(TrainRecord::csv).toList(), kind.cliName());
        }
    }

    @Test
    void aCheckpointOfOtherFlagsIsRefused(@TempDir Path dir) throws Exception {
        Trainer t = trainer(settings(BalancerKind.LOSS_FREE, 4, 0.01f));
        run(t, 2);
        Path ckpt = dir.resolve("c.safetensors");
        TrainCheckpoint.save(t, ckpt);
        Trainer other = trainer(settings(BalancerKind.LOSS_FREE, 5, 0.01f));
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.moe.safetensors.SafetensorsFormatException.class,
                () -> TrainCheckpoint.restore(other, ckpt));
        assertTrue(e.getMessage().contains("--steps 4"), e.getMessage());
    }
}
