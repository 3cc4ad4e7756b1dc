package dev.moe.io;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The element types this library reads from and writes to {@code .npy} files: little-endian
 * {@code float32}, {@code float64}, {@code int32}, {@code int64} and {@code uint8}.
 *
 * <p>{@link #descr()} is the NumPy type string as it appears in a {@code .npy} header
 * ({@code '<f4'} and so on).
 */
public enum NpyDType {
    /** IEEE 754 binary32, little-endian ({@code <f4}). */
    FLOAT32("<f4", "float32", ValueLayout.JAVA_FLOAT_UNALIGNED),
    /** IEEE 754 binary64, little-endian ({@code <f8}). */
    FLOAT64("<f8", "float64", ValueLayout.JAVA_DOUBLE_UNALIGNED),
    /** Signed 32-bit integer, little-endian ({@code <i4}). */
    INT32("<i4", "int32", ValueLayout.JAVA_INT_UNALIGNED),
    /** Signed 64-bit integer, little-endian ({@code <i8}). */
    INT64("<i8", "int64", ValueLayout.JAVA_LONG_UNALIGNED),
    /** Unsigned 8-bit integer ({@code |u1}); read it with {@code Byte.toUnsignedInt}. */
    UINT8("|u1", "uint8", ValueLayout.JAVA_BYTE);

    private final String descr;
    private final String typeName;
    private final ValueLayout layout;

    NpyDType(String descr, String typeName, ValueLayout layout) {
        this.descr = descr;
        this.typeName = typeName;
        this.layout = layout.withOrder(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@return the NumPy type string, e.g. {@code "<f4"}} */
    public String descr() {
        return descr;
    }

    /** {@return the size of one element in bytes} */
    public int itemSize() {
        return (int) layout.byteSize();
    }

    /** {@return the NumPy type name, e.g. {@code "float32"}} */
    public String typeName() {
        return typeName;
    }

    /** {@return the little-endian, byte-aligned layout of one element, for reading array data} */
    public ValueLayout layout() {
        return layout;
    }

    /** "float32 (&lt;f4)", used in messages. */
    String label() {
        return typeName + " (" + descr + ")";
    }

    /**
     * Returns the dtype with the given NumPy type string.
     *
     * @param descr a type string such as {@code "<f4"}
     * @return the matching dtype
     * @throws IllegalArgumentException if the type is not one of the supported ones; the message names
     *     the type, what it is (e.g. "float16"), whether it is big-endian, and the supported types
     */
    public static NpyDType fromDescr(String descr) {
        Objects.requireNonNull(descr, "descr");
        for (NpyDType type : values()) {
            if (type.descr.equals(descr)) {
                return type;
            }
        }
        String what = describe(descr);
        String shown = "'" + descr + "'" + (what.isEmpty() ? "" : " (" + what + ")");
        String supported = "supported: " + Arrays.stream(values())
                .map(t -> "'" + t.descr + "' (" + t.typeName + ")").collect(Collectors.joining(", "));
        if (descr.startsWith(">")) {
            String little = "<" + descr.substring(1);
            boolean convertible = Arrays.stream(values()).anyMatch(t -> t.descr.equals(little));
            return fail("big-endian dtype " + shown + " is not supported; .npy data must be little-endian"
                    + (convertible ? " (convert with a.astype('" + little + "'))" : "") + "; " + supported);
        }
        return fail("unsupported dtype " + shown + "; " + supported);
    }

    private static NpyDType fail(String message) {
        throw new IllegalArgumentException(message);
    }

    /** Names a NumPy type string such as "<f2" ("float16"), or "" if it does not look like one. */
    private static String describe(String descr) {
        if (descr.length() < 2 || "<>|=".indexOf(descr.charAt(0)) < 0) {
            return "";
        }
        String digits = descr.substring(2);
        if (!digits.chars().allMatch(Character::isDigit) || digits.length() > 4) {
            return "";
        }
        String bits = digits.isEmpty() ? "" : Integer.toString(Integer.parseInt(digits) * 8);
        return switch (descr.charAt(1)) {
            case 'f' -> "float" + bits;
            case 'i' -> "int" + bits;
            case 'u' -> "uint" + bits;
            case 'c' -> "complex" + bits;
            case 'b', '?' -> "bool";
            case 'U' -> "unicode string";
            case 'S', 'a' -> "byte string";
            case 'V' -> "void/structured";
            case 'O' -> "Python object";
            case 'M' -> "datetime64";
            case 'm' -> "timedelta64";
            default -> "";
        };
    }
}
