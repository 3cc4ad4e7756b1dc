package dev.moe.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.moe.backend.Backend;
import dev.moe.balance.BiasStateFile;
import dev.moe.io.Npy;
import dev.moe.io.NpyFormatException;
import dev.moe.routing.GroupScore;
import dev.moe.routing.InvalidConfigException;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.ScoreFunction;
import dev.moe.safetensors.SafetensorsFile;

/**
 * Fuzzed inputs for the parsers and validators: every input ends in the documented clear error (or a
 * valid result), never another exception, a JVM crash or a hang. In a normal build these run in
 * Jazzer's regression mode over the corpus in src/test/resources/dev/moe/fuzz/ParserFuzzTestInputs;
 * {@code JAZZER_FUZZ=1 ./mvnw -pl java-src -am test -Dtest=ParserFuzzTest#<method>} fuzzes for real.
 */
class ParserFuzzTest {

    private static Path write(byte[] data) throws IOException {
        Path f = Files.createTempFile("moe-fuzz-", ".bin");
        Files.write(f, data);
        return f;
    }

    @FuzzTest(maxDuration = "20s")
    void npyFiles(byte[] data) throws IOException {
        Path f = write(data);
        try (Arena arena = Arena.ofConfined()) {
            Npy.read(f, arena);
        } catch (NpyFormatException expected) {
            // the one documented error for a malformed file
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void safetensorsHeaders(byte[] data) throws IOException {
        Path f = write(data);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile s = SafetensorsFile.open(f, arena);
            for (String name : s.names()) {
                s.tensor(name).data().byteSize();  // every tensor view is inside the file
            }
        } catch (IllegalArgumentException expected) {
            // SafetensorsFormatException
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void biasStateFiles(byte[] data) throws IOException {
        Path f = write(data);
        try {
            BiasStateFile.load(f);
        } catch (IOException | IllegalArgumentException expected) {
            // rejected with a message naming the problem
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void routingConfigsAndBatches(FuzzedDataProvider in) {
        RoutingConfig c;
        try {
            RoutingConfig.Builder b = RoutingConfig.builder().experts(in.consumeInt(-2, 300)).groups(in.consumeInt(-1, 40))
                    .topkGroups(in.consumeInt(-1, 40)).topk(in.consumeInt(-1, 20))
                    .scoreFunction(in.consumeBoolean() ? ScoreFunction.SIGMOID : ScoreFunction.SOFTMAX)
                    .groupScore(in.consumeBoolean() ? GroupScore.MAX : GroupScore.TOP_J_SUM).normalize(in.consumeBoolean())
                    .routeScale(in.consumeFloat());
            if (in.consumeBoolean()) {
                b.groupTopJ(in.consumeInt(-1, 40));
            }
            c = b.build();
        } catch (InvalidConfigException expected) {
            return;
        }
        int tokens = in.consumeInt(0, 4);
        float[] z = new float[tokens * c.numExperts()];
        for (int i = 0; i < z.length; i++) {
            z[i] = in.consumeRegularFloat(-50f, 50f);
        }
        RoutingResult java = Routers.create(c, Backend.JAVA).route(z, null);
        RoutingResult cpu = Routers.create(c, Backend.CPU).route(z, null);
        assertArrayEquals(java.ids(), cpu.ids(), c.toString());
        assertArrayEquals(java.weights(), cpu.weights(), c.toString());
        for (int id : cpu.ids()) {
            assertTrue(id >= 0 && id < c.numExperts());
        }
    }
}
