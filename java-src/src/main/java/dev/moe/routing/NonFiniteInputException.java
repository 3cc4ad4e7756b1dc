package dev.moe.routing;

/** A router logit that is NaN or infinite: never routed silently (docs/specification.md §k #3, #4). */
public final class NonFiniteInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The first offending token row. */
    private final long row;
    /** The first offending expert column in that row, or -1 if none was found. */
    private final int column;

    /**
     * Creates the exception; the message names the position and the value.
     *
     * @param row    the token row holding the value
     * @param column the expert column of the value in that row
     * @param value  the value (NaN or infinite)
     */
    public NonFiniteInputException(long row, int column, float value) {
        super("logits row " + row + " has a non-finite value (" + value + ") at expert " + column
                + "; non-finite logits are rejected, never routed");
        this.row = row;
        this.column = column;
    }

    /** {@return the first offending token row} */
    public long row() {
        return row;
    }

    /** {@return the first offending expert column in that row} */
    public int column() {
        return column;
    }

    /** The exception for row {@code row} of logits float [T, n], naming its first non-finite element. */
    static NonFiniteInputException inRow(java.lang.foreign.MemorySegment logits, long row, int n) {
        for (int i = 0; i < n; i++) {
            float v = logits.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, row * n + i);
            if (!Float.isFinite(v)) {
                return new NonFiniteInputException(row, i, v);
            }
        }
        return new NonFiniteInputException(row, -1, Float.NaN);
    }
}
