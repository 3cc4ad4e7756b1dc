package dev.moe.safetensors;

import java.nio.file.Path;

/** A safetensors file that is not well formed; the message names the file and the problem. */
public final class SafetensorsFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception; the message is {@code "<file>: not a valid safetensors file: <problem>"}.
     *
     * @param file    the file that was being read
     * @param problem what is wrong with it
     */
    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": not a valid safetensors file: " + problem);
    }
}
