package dev.moe.io;

import java.util.ArrayList;
import java.util.List;

/**
 * A strict parser for the Python dict literal in a {@code .npy} header, e.g.
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }}.
 *
 * <p>Accepts exactly the keys {@code descr}, {@code fortran_order} and {@code shape} in any order,
 * single- or double-quoted strings without escapes, {@code True}/{@code False}, a tuple of non-negative
 * decimal integers (Python 2's {@code L} suffix allowed, as numpy allows it), an optional trailing comma
 * in the dict and tuple, and whitespace anywhere between tokens. Errors are
 * {@link IllegalArgumentException}s whose message says what is wrong, where, and shows the header.
 */
final class NpyHeaderParser {
    private static final int EOF = -1;
    private static final int MAX_SHOWN = 200;

    private final String text;
    private int pos;

    private NpyHeaderParser(String text) {
        this.text = text;
    }

    /** Parses a header dictionary; throws IllegalArgumentException if it is malformed. */
    static NpyHeader parse(String text) {
        return new NpyHeaderParser(text).dict();
    }

    private NpyHeader dict() {
        skipSpace();
        if (peek() != '{') {
            throw error("expected the header to be a dict starting with '{'");
        }
        pos++;
        String descr = null;
        Boolean fortranOrder = null;
        long[] shape = null;
        skipSpace();
        while (peek() != '}') {
            int keyStart = pos;
            String key = string("a quoted key or '}'");
            skipSpace();
            expect(':', "after key '" + key + "'");
            skipSpace();
            switch (key) {
                case "descr" -> {
                    checkUnique(descr, key, keyStart);
                    descr = descr();
                }
                case "fortran_order" -> {
                    checkUnique(fortranOrder, key, keyStart);
                    fortranOrder = bool(key);
                }
                case "shape" -> {
                    checkUnique(shape, key, keyStart);
                    shape = shape();
                }
                default -> throw error(keyStart, "unexpected key '" + key
                        + "' (a .npy header has exactly the keys 'descr', 'fortran_order' and 'shape')");
            }
            skipSpace();
            if (peek() == ',') {
                pos++;
                skipSpace();
            } else if (peek() != '}') {
                throw error("expected ',' or '}' after the value of '" + key + "', found " + found());
            }
        }
        pos++;
        skipSpace();
        if (pos != text.length()) {
            throw error("unexpected text after the closing '}'");
        }
        requirePresent(descr, "descr");
        requirePresent(fortranOrder, "fortran_order");
        requirePresent(shape, "shape");
        return new NpyHeader(descr, fortranOrder, shape);
    }

    private String descr() {
        if (peek() == '[') {
            throw error("descr is a list of fields: structured dtypes are not supported");
        }
        return string("a quoted dtype string for 'descr'");
    }

    private boolean bool(String key) {
        int start = pos;
        while (Character.isLetterOrDigit(peek()) || peek() == '_') {
            pos++;
        }
        String word = text.substring(start, pos);
        return switch (word) {
            case "True" -> true;
            case "False" -> false;
            default -> throw error(start, "'" + key + "' must be True or False, found "
                    + (word.isEmpty() ? found() : "'" + word + "'"));
        };
    }

    private long[] shape() {
        if (peek() != '(') {
            throw error("'shape' must be a tuple such as (3, 4)"
                    + (peek() == '[' ? ", not a list" : ""));
        }
        int open = pos++;
        List<Long> dims = new ArrayList<>();
        skipSpace();
        boolean trailingComma = false;
        while (peek() != ')') {
            dims.add(dimension());
            skipSpace();
            trailingComma = peek() == ',';
            if (trailingComma) {
                pos++;
                skipSpace();
            } else if (peek() != ')') {
                throw error("expected ',' or ')' in 'shape', found " + found());
            }
        }
        pos++;
        if (dims.size() == 1 && !trailingComma) {
            throw error(open, "'shape' " + text.substring(open, pos)
                    + " is not a tuple; a 1-d shape is written with a trailing comma, e.g. (5,)");
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private long dimension() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        while (Character.isLetterOrDigit(peek()) || peek() == '_' || peek() == '.') {
            pos++;
        }
        String token = text.substring(start, pos);
        if (token.isEmpty()) {
            throw error("expected a dimension (a non-negative integer) in 'shape', found " + found());
        }
        String digits = token.endsWith("L") || token.endsWith("l") ? token.substring(0, token.length() - 1) : token;
        boolean negative = digits.startsWith("-");
        String magnitude = negative ? digits.substring(1) : digits;
        if (magnitude.isEmpty() || !magnitude.chars().allMatch(c -> c >= '0' && c <= '9')
                || (magnitude.length() > 1 && magnitude.charAt(0) == '0')) {
            throw error(start, "invalid dimension '" + token + "' in 'shape' (expected a non-negative integer)");
        }
        if (negative) {
            throw error(start, "negative dimension " + token + " in 'shape'");
        }
        try {
            return Long.parseLong(magnitude);
        } catch (NumberFormatException e) {
            throw error(start, "dimension " + magnitude + " in 'shape' is too large");
        }
    }

    private String string(String expected) {
        int quote = peek();
        if (quote != '\'' && quote != '"') {
            throw error("expected " + expected + ", found " + found());
        }
        int start = ++pos;
        while (peek() != quote) {
            if (peek() == EOF || peek() == '\n' || peek() == '\r') {
                throw error(start - 1, "unterminated string");
            }
            if (peek() == '\\') {
                throw error("escape sequences are not supported in header strings");
            }
            pos++;
        }
        return text.substring(start, pos++);
    }

    private void expect(char c, String where) {
        if (peek() != c) {
            throw error("expected '" + c + "' " + where + ", found " + found());
        }
        pos++;
    }

    private void checkUnique(Object previous, String key, int at) {
        if (previous != null) {
            throw error(at, "duplicate key '" + key + "'");
        }
    }

    private void requirePresent(Object value, String key) {
        if (value == null) {
            throw new IllegalArgumentException("malformed .npy header: missing key '" + key + "' in " + shown());
        }
    }

    private void skipSpace() {
        while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r' || peek() == '\f') {
            pos++;
        }
    }

    private int peek() {
        return pos < text.length() ? text.charAt(pos) : EOF;
    }

    private String found() {
        return peek() == EOF ? "the end of the header" : "'" + escape(String.valueOf((char) peek())) + "'";
    }

    private IllegalArgumentException error(String problem) {
        return error(pos, problem);
    }

    private IllegalArgumentException error(int at, String problem) {
        return new IllegalArgumentException("malformed .npy header: " + problem + " at character " + at + " of " + shown());
    }

    /** The header as a quoted, escaped, possibly shortened string for messages. */
    private String shown() {
        String trimmed = text.stripTrailing();
        String shown = trimmed.length() > MAX_SHOWN ? trimmed.substring(0, MAX_SHOWN) : trimmed;
        return "\"" + escape(shown) + "\"" + (shown.length() < trimmed.length() ? "..." : "");
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
