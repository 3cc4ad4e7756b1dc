package dev.moe.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;

import dev.moe.io.InputFiles;

/**
 * A safetensors file, memory-mapped through FFM: tensors are slices of the mapping, never copied.
 * Layout: u64 little-endian header size N, N bytes of JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the data, offsets relative to its start.
 *
 * <p>The header is validated when the file is opened: size within the file, a JSON object, known
 * dtypes, non-negative shapes, offsets inside the data with {@code end − begin} equal to the element
 * count times the dtype size, and no two tensors overlapping. Any violation is a
 * {@link SafetensorsFormatException} naming the problem. The mapping lives as long as the arena.
 */
public final class SafetensorsFile implements TensorSource {
    /** Headers larger than this are rejected (the format's reference implementation uses 100 MB). */
    static final long MAX_HEADER = 100L << 20;
    /** Parses headers; a key given twice in one object is an error (JSON leaves it undefined). */
    private static final ObjectReader HEADER_READER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build().reader();

    private final Path path;
    private final Map<String, SafetensorsTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Map<String, SafetensorsTensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Maps and validates {@code path}; the tensors stay valid while {@code arena} is open. Nothing is
     * copied but the header.
     *
     * @param path  the file to open
     * @param arena the arena that owns the mapping; closing it unmaps the file
     * @return the opened file, with an immutable view of its tensors and metadata
     * @throws SafetensorsFormatException if the file is not well formed (see the class description)
     * @throws IOException if the file cannot be read or mapped
     */
    public static SafetensorsFile open(Path path, Arena arena) throws IOException {
        MemorySegment file;
        try (FileChannel ch = InputFiles.open(path)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsFormatException(path, "file of " + size + " bytes is shorter than the 8-byte header size");
            }
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        long headerSize = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerSize < 2 || headerSize > MAX_HEADER || headerSize > file.byteSize() - 8) {
            throw new SafetensorsFormatException(path, "header size " + Long.toUnsignedString(headerSize) + " does not fit in the "
                    + file.byteSize() + "-byte file (or exceeds " + MAX_HEADER + " bytes)");
        }
        byte[] json = file.asSlice(8, headerSize).toArray(ValueLayout.JAVA_BYTE);
        MemorySegment data = file.asSlice(8 + headerSize);
        JsonNode root;
        try {
            root = HEADER_READER.readTree(utf8(path, json));
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(path, "header is not a JSON object");
        }
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadata);
                continue;
            }
            tensors.put(e.getKey(), tensor(path, e.getKey(), e.getValue(), data));
        }
        checkLayout(path, tensors, data);
        return new SafetensorsFile(path, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(path, "__metadata__ is not an object");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new SafetensorsFormatException(path, "__metadata__ value '" + m.getKey() + "' is not a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    private static SafetensorsTensor tensor(Path path, String name, JsonNode node, MemorySegment data) {
        String where = "tensor '" + name + "'";
        if (!node.isObject() || !node.path("dtype").isTextual() || !node.path("shape").isArray()
                || !node.path("data_offsets").isArray() || node.path("data_offsets").size() != 2) {
            throw new SafetensorsFormatException(path, where + " needs a dtype string, a shape array and two data_offsets");
        }
        SafetensorsDType dtype = SafetensorsDType.byName(node.get("dtype").asText());
        if (dtype == null) {
            throw new SafetensorsFormatException(path, where + " has unsupported dtype '" + node.get("dtype").asText() + "'");
        }
        JsonNode shapeNode = node.get("shape");
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new SafetensorsFormatException(path, where + " has an invalid dimension " + d);
            }
            shape[i] = d.asLong();
            count = multiply(path, where, count, shape[i]);
        }
        JsonNode b = node.get("data_offsets").get(0);
        JsonNode e = node.get("data_offsets").get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()) {
            throw new SafetensorsFormatException(path, where + " has non-integer data_offsets");
        }
        long begin = b.asLong();
        long end = e.asLong();
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw new SafetensorsFormatException(path, where + " has data_offsets [" + begin + ", " + end + "] outside the "
                    + data.byteSize() + " data bytes");
        }
        long bytes = multiply(path, where, count, dtype.size());
        if (end - begin != bytes) {
            throw new SafetensorsFormatException(path, where + " holds " + (end - begin) + " bytes, but " + dtype + " "
                    + java.util.Arrays.toString(shape) + " needs " + bytes);
        }
        return new SafetensorsTensor(name, dtype, shape, data.asSlice(begin, end - begin));
    }

    private static long multiply(Path path, String where, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException x) {
            throw new SafetensorsFormatException(path, where + " is too large (size overflows 64 bits)");
        }
    }

    /**
     * The tensors tile the data section exactly, as the format's reference implementation requires: no
     * overlap, no gap, no bytes after the last tensor.
     */
    private static void checkLayout(Path path, Map<String, SafetensorsTensor> tensors, MemorySegment data) {
        List<SafetensorsTensor> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.<SafetensorsTensor>comparingLong(t -> t.data().address()).thenComparingLong(t -> t.data().byteSize()));
        long end = data.address();
        String previous = null;
        for (SafetensorsTensor t : sorted) {
            long begin = t.data().address();
            if (begin < end) {
                throw new SafetensorsFormatException(path, "tensors '" + previous + "' and '" + t.name() + "' overlap");
            }
            if (begin > end) {
                throw new SafetensorsFormatException(path, (begin - end) + " unused bytes before tensor '" + t.name() + "'");
            }
            end = begin + t.data().byteSize();
            previous = t.name();
        }
        long trailing = data.address() + data.byteSize() - end;
        if (trailing > 0) {
            throw new SafetensorsFormatException(path, trailing + " trailing bytes after the last tensor"
                    + (previous == null ? "" : " ('" + previous + "')"));
        }
    }

    /** The header as text; invalid UTF-8 is an error, not replaced. */
    private static String utf8(Path path, byte[] json) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(path, "header is not valid UTF-8 (" + e.getMessage() + ")");
        }
    }

    /** {@return the file this was opened from} */
    @Override
    public Path path() {
        return path;
    }

    /** {@return the tensor names in header order (an immutable list)} */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /**
     * Whether the file holds a tensor of this name.
     *
     * @param name the tensor name
     * @return true if the header lists it
     */
    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The tensor named {@code name}.
     *
     * @param name the tensor name
     * @return the tensor, a view of the mapping
     * @throws IllegalArgumentException naming the file if there is no such tensor
     */
    @Override
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** {@return the header's __metadata__ (string to string, unmodifiable), possibly empty} */
    public Map<String, String> metadata() {
        return metadata;
    }
}
