package dev.moe.safetensors;

import java.nio.file.Path;

/** A safetensors file that is not well formed; the message names the file and the problem. */
public final class SafetensorsFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": not a valid safetensors file: " + problem);
    }
}
