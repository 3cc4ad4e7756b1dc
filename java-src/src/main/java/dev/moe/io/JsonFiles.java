package dev.moe.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads small JSON files (checkpoint configurations and indexes) strictly: one object, no duplicate keys. */
public final class JsonFiles {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private JsonFiles() {}

    /**
     * Reads a file holding one JSON object.
     *
     * @param file     the file
     * @param maxBytes the largest file accepted (checked before reading)
     * @return the object
     * @throws IllegalArgumentException naming the file if it is larger than {@code maxBytes}, not valid
     *         JSON, has a duplicate key or is not an object
     * @throws IOException if the file cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
     */
    public static JsonNode readObject(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            throw new IllegalArgumentException(file + ": " + size + " bytes, more than the " + maxBytes + " accepted");
        }
        JsonNode root;
        try {
            root = STRICT.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a JSON object");
        }
        return root;
    }
}
