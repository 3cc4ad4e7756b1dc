package dev.moe.routing;

/** A router logit that is NaN or infinite: never routed silently (spec §k #3, #4). */
public final class NonFiniteInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long row;
    private final int column;

    public NonFiniteInputException(long row, int column, float value) {
        super("logits row " + row + " has a non-finite value (" + value + ") at expert " + column
                + "; non-finite logits are rejected, never routed");
        this.row = row;
        this.column = column;
    }

    /** The first offending token row. */
    public long row() {
        return row;
    }

    /** The first offending expert column in that row. */
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
