package dev.moe.safetensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.moe.io.AtomicFiles;

/**
 * Builds a safetensors file in memory and writes it atomically (temp file, fsync, rename), for tests
 * and tools that make their own small checkpoints. Tensors are laid out in the order added; the
 * header is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
 * Create one with {@code new SafetensorsWriter()}; not thread-safe.
 */
public final class SafetensorsWriter {
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private record Entry(SafetensorsDType dtype, long[] shape, byte[] bytes) {}

    /**
     * Adds raw little-endian bytes of {@code dtype} with {@code shape} (both copied).
     *
     * @param name  the tensor name, not {@code __metadata__} and not used before
     * @param dtype the element type
     * @param bytes exactly element count × {@code dtype.size()} bytes, row-major
     * @param shape the dimensions, each &ge; 0 (none for a scalar)
     * @return this writer
     * @throws IllegalArgumentException if the name is taken or reserved, a dimension is negative or the
     *         byte count does not match
     */
    public SafetensorsWriter add(String name, SafetensorsDType dtype, byte[] bytes, long... shape) {
        Objects.requireNonNull(name, "name");
        if (name.equals("__metadata__") || entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor name '" + name + "' is reserved or already used");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + java.util.Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (bytes.length != count * dtype.size()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + bytes.length + " bytes for " + dtype + " "
                    + java.util.Arrays.toString(shape));
        }
        entries.put(name, new Entry(dtype, shape.clone(), bytes.clone()));
        return this;
    }

    /**
     * Adds FP32 values.
     *
     * @param name   the tensor name, not {@code __metadata__} and not used before
     * @param values the elements, row-major
     * @param shape  the dimensions, holding exactly {@code values.length} elements
     * @return this writer
     * @throws IllegalArgumentException as {@link #add}
     */
    public SafetensorsWriter addF32(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(name, SafetensorsDType.F32, b.array(), shape);
    }

    /**
     * Adds values as BF16, rounding each to nearest even (NaN stays NaN).
     *
     * @param name   the tensor name, not {@code __metadata__} and not used before
     * @param values the elements, row-major
     * @param shape  the dimensions, holding exactly {@code values.length} elements
     * @return this writer
     * @throws IllegalArgumentException as {@link #add}
     */
    public SafetensorsWriter addBf16(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(dev.moe.math.Bf16.encode(v));
        }
        return add(name, SafetensorsDType.BF16, b.array(), shape);
    }

    /**
     * Adds a metadata entry (string to string); a later value for the same key replaces the earlier.
     *
     * @param key   the key
     * @param value the value
     * @return this writer
     * @throws NullPointerException if the key or the value is null
     */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
        return this;
    }

    /** {@return the names of the tensors added so far, in order (an immutable list)} */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    /** {@return the bytes of tensor data added so far (the file without its header)} */
    public long dataBytes() {
        long n = 0;
        for (Entry e : entries.values()) {
            n += e.bytes().length;
        }
        return n;
    }

    /**
     * A new writer holding some of this writer's tensors (sharing their bytes), in this writer's order,
     * and its metadata.
     *
     * @param names the tensors to take
     * @return the new writer
     * @throws IllegalArgumentException if a name is not in this writer
     */
    public SafetensorsWriter select(Collection<String> names) {
        Set<String> wanted = new HashSet<>(names);
        if (!entries.keySet().containsAll(wanted)) {
            wanted.removeAll(entries.keySet());
            throw new IllegalArgumentException("no tensors named " + wanted);
        }
        SafetensorsWriter out = new SafetensorsWriter();
        entries.forEach((name, e) -> {
            if (wanted.contains(name)) {
                out.entries.put(name, e);
            }
        });
        out.metadata.putAll(metadata);
        return out;
    }

    /** {@return the complete file: header size, header padded with spaces to a multiple of 8, then the data} */
    public byte[] toBytes() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode header = om.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            offset += e.getValue().bytes().length;
            off.add(offset);
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.writeBytes(len.array());
        out.writeBytes(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
        for (Entry e : entries.values()) {
            out.writeBytes(e.bytes());
        }
        return out.toByteArray();
    }

    /**
     * Writes the file atomically: all of it or nothing.
     *
     * @param path the file to create or replace
     * @throws IOException if the file cannot be written; an existing file is then unchanged
     */
    public void write(Path path) throws IOException {
        AtomicFiles.write(path, toBytes());
    }
}
