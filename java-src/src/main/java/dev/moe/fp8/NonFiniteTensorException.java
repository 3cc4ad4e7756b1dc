package dev.moe.fp8;

/** An input element that is NaN or infinite: FP8 block quantisation rejects it rather than saturate a tile. */
public final class NonFiniteTensorException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Row of the first non-finite element. */
    private final long row;
    /** Column of the first non-finite element. */
    private final long column;

    /**
     * The first bad element, in row-major order.
     *
     * @param row    its row
     * @param column its column
     * @param value  its value (NaN or infinite)
     */
    public NonFiniteTensorException(long row, long column, float value) {
        super("input element [" + row + ", " + column + "] is not finite (" + value
                + "); FP8 quantisation needs finite values (its tile scale would be meaningless)");
        this.row = row;
        this.column = column;
    }

    /** {@return the row of the first non-finite element} */
    public long row() {
        return row;
    }

    /** {@return the column of the first non-finite element} */
    public long column() {
        return column;
    }
}
