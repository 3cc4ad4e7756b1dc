package dev.moe.safetensors;

/** The safetensors element types this library reads and writes (DeepSeek-V3 checkpoints use the first three). */
public enum SafetensorsDType {
    /** OCP E4M3 codes, one byte each. */
    F8_E4M3(1),
    /** bfloat16, two bytes little-endian. */
    BF16(2),
    /** IEEE binary32, little-endian. */
    F32(4),
    /** IEEE binary16, little-endian. */
    F16(2),
    /** int32, little-endian. */
    I32(4),
    /** int64, little-endian. */
    I64(8),
    /** uint8. */
    U8(1);

    private final int size;

    SafetensorsDType(int size) {
        this.size = size;
    }

    /** {@return bytes per element} */
    public int size() {
        return size;
    }

    /** The dtype named {@code name} in a header, or null if this library does not know it. */
    static SafetensorsDType byName(String name) {
        for (SafetensorsDType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
