package dev.moe.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;

import dev.moe.io.Npy;
import dev.moe.io.NpyArray;
import dev.moe.io.NpyDType;

/**
 * The CLI's reads of {@code .npy} inputs: the header is checked first (dtype and shape, through a
 * mapping whose data is never touched), so that a shape too large for a command or for this machine is
 * reported before the data is read into memory.
 */
final class NpyInputs {
    /** The largest Java array the JVM reliably allocates. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private NpyInputs() {}

    /**
     * What a {@code .npy} header promises.
     *
     * @param dtype     the element type
     * @param shape     the dimensions
     * @param text      the shape as Python writes it
     * @param dataBytes the size of the data section
     */
    record Header(NpyDType dtype, long[] shape, String text, long dataBytes) {
        long elements() {
            return dataBytes / dtype.itemSize();
        }
    }

    /** {@return the header of a valid {@code .npy} file; no data is read} */
    static Header header(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray mapped = Npy.map(file, arena);
            return new Header(mapped.dtype(), mapped.shape(), mapped.shapeString(), mapped.data().byteSize());
        }
    }

    /**
     * Reads float32 or float64 data as float32 into {@code arena} after checking that it fits this
     * machine's memory.
     *
     * @param flag the option naming the file, for messages
     */
    static NpyArray readFloat32(String flag, Path file, Arena arena) throws IOException {
        Header h = header(file);
        // float64 data is read, then converted: 1.5 times its size at the peak.
        long bytes = h.dtype() == NpyDType.FLOAT64 ? MemoryBudget.product(h.elements(), 12) : h.dataBytes();
        MemoryBudget.of(flag + " " + file).offHeap(bytes).require();
        return Npy.readFloat32(file, arena);
    }

    /**
     * Checks that every dimension and the element count fit a Java array.
     *
     * @param flag the option naming the file, for messages
     */
    static void requireArraySized(String flag, Path file, Header h) {
        for (long d : h.shape()) {
            if (d > MAX_ARRAY) {
                throw new UsageException(flag + " " + file + ": shape " + h.text() + " is too large (each dimension must be "
                        + "below 2^31)");
            }
        }
        if (h.elements() > MAX_ARRAY) {
            throw new UsageException(flag + " " + file + ": shape " + h.text() + " has more than 2^31 elements");
        }
    }
}
