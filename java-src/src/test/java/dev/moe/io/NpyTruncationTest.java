package dev.moe.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.moe.backend.Backend;
import dev.moe.routing.Router;
import dev.moe.routing.Routers;
import dev.moe.routing.RoutingConfig;
import dev.moe.routing.RoutingResult;
import dev.moe.routing.SyntheticLogits;

/**
 * An input that shrinks while it is in use cannot crash the process: what {@link Npy#read} returns is a
 * private copy, so a native kernel reading it after the file was truncated reads the data as it was
 * (a mapping would fault, SIGBUS, inside the kernel and kill the JVM).
 */
class NpyTruncationTest {
    @TempDir
    Path dir;

    @Test
    void nativeRoutingOfAnInputTruncatedAfterItWasReadIsUnaffected() throws IOException {
        int t = 4096;
        RoutingConfig c = RoutingConfig.deepseekV3();
        float[] z = SyntheticLogits.generate(t, c.numExperts(), 1f, 7);
        Path file = dir.resolve("logits.npy");
        Npy.write(file, Npy.ofFloats(z, t, c.numExperts()));
        Router cpu = Routers.create(c, Backend.CPU);
        try (Arena arena = Arena.ofConfined()) {
            NpyArray logits = Npy.read(file, arena);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(128);  // only the header is left
            }
            MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT, (long) t * c.topk());
            MemorySegment w = arena.allocate(ValueLayout.JAVA_FLOAT, (long) t * c.topk());
            cpu.route(logits.data(), t, null, ids, w, null);
            RoutingResult expected = Routers.reference(c).route(z, null);
            assertArrayEquals(expected.ids(), ids.toArray(ValueLayout.JAVA_INT));
            assertArrayEquals(expected.weights(), w.toArray(ValueLayout.JAVA_FLOAT));
            assertEquals(0f, logits.data().get(ValueLayout.JAVA_FLOAT, 0) - z[0]);
        }
    }
}
