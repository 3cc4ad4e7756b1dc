package dev.moe.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.moe.dist.Communicator;
import dev.moe.dist.LocalGroup;
import dev.moe.dist.SelfCommunicator;
import dev.moe.routing.Routers;
import dev.moe.sim.BalancerKind;

/**
 * Data-parallel training over a group of ranks (threads of this JVM standing in for MPI processes) gives
 * the single-process run with the same global batch: the same routing loads at every step (exactly),
 * losses and parameters to FP32 rounding, and the same held-out evaluation.
 */
class DataParallelTrainingTest {
    private static final Corpus CORPUS = new Corpus(SyntheticText.generate(30_000, 11), 0.05, 16);

    private static TrainSettings settings(BalancerKind kind) {
        TransformerConfig model = new TransformerConfig(1, 16, 2, 16, 8, 4, 2, 2, 1, 16, "deepseek-v3");
        return new TrainSettings(model, 4, 6, 5e-3, 2, 5, 3, kind, 0.01f, 1e-2, TrainSettings.DEFAULT_WEIGHT_DECAY,
                TrainSettings.DEFAULT_CLIP_NORM, Precision.FP32);
    }

    private static List<TrainRecord> run(TrainSettings s, Communicator comm, float[][] paramsOut) {
        Trainer t = new Trainer(s, CORPUS, comm, new JavaGemm(), Routers.reference(s.model().routing()));
        List<TrainRecord> rows = new ArrayList<>();
        t.run(s.steps(), rows::add);
        paramsOut[comm.rank()] = t.model().parameters().clone();
        return rows;
    }

    @Test
    void twoRanksGiveTheSingleProcessRun() throws Exception {
        for (BalancerKind kind : new BalancerKind[] {BalancerKind.LOSS_FREE, BalancerKind.AUX_LOSS}) {
            TrainSettings s = settings(kind);
            float[][] single = new float[1][];
            List<TrainRecord> want = run(s, new SelfCommunicator(), single);
            List<Communicator> group = LocalGroup.create(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            float[][] params = new float[2][];
            List<Future<List<TrainRecord>>> futures = new ArrayList<>();
            try {
                for (Communicator c : group) {
                    futures.add(pool.submit(() -> run(s, c, params)));
                }
                List<TrainRecord> rank0 = futures.get(0).get();
                List<TrainRecord> rank1 = futures.get(1).get();
                assertEquals(rank0.stream().map(TrainRecord::csv).toList(), rank1.stream().map(TrainRecord::csv).toList(),
                        "both ranks hold the same records");
                assertArrayEquals(params[0], params[1], "both ranks hold the same parameters");
                for (int i = 0; i < want.size(); i++) {
                    TrainRecord a = want.get(i);
                    TrainRecord b = rank0.get(i);
                    assertEquals(a.maxVioBatch(), b.maxVioBatch(), kind + " step " + a.step() + ": loads are counts, exact");
                    assertEquals(a.trainLoss(), b.trainLoss(), 1e-5, kind + " step " + a.step());
                    assertEquals(a.auxLoss(), b.auxLoss(), 1e-6 + 1e-5 * a.auxLoss(), kind + " step " + a.step());
                    assertEquals(a.evaluated(), b.evaluated());
                    if (a.evaluated()) {
                        assertEquals(a.valLoss(), b.valLoss(), 1e-5);
                    }
                }
                double maxDiff = 0;
                for (int i = 0; i < single[0].length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(single[0][i] - params[0][i]));
                }
                assertTrue(maxDiff < 1e-4, kind + ": parameters differ by up to " + maxDiff);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
