package dev.moe.train;

/**
 * A {@link Gemm#gemmBatched} description with one entry per non-empty group of rows: entry for group e
 * multiplies its m_e = offsets[e+1] − offsets[e] rows.
 *
 * @param dims    m, n, k per entry
 * @param offsets A, B, C offsets per entry
 */
record GroupedBatch(long[] dims, long[] offsets) {
    /** The A, B and C offsets of group e whose rows start at r0. */
    interface Offsets {
        long[] of(int e, long r0);
    }

    /**
     * Entries (m_e, n, k) for the non-empty groups.
     *
     * @param rowOffsets int [E+1] group row offsets
     * @param n          columns of each C
     * @param k          the summed dimension
     * @param offsets    the operands' offsets of a group
     * @return the batch
     */
    static GroupedBatch of(int[] rowOffsets, int n, int k, Offsets offsets) {
        return build(rowOffsets, (e, m) -> new long[] {m, n, k}, offsets);
    }

    /**
     * Entries for the weight gradients of the groups: (n, k, m_e), C_e = Aᵀ·B summed over the group's rows.
     *
     * @param rowOffsets int [E+1] group row offsets
     * @param m          rows of each C
     * @param n          columns of each C
     * @param offsets    the operands' offsets of a group
     * @return the batch
     */
    static GroupedBatch summedOverRows(int[] rowOffsets, int m, int n, Offsets offsets) {
        return build(rowOffsets, (e, rows) -> new long[] {m, n, rows}, offsets);
    }

    private interface Dims {
        long[] of(int e, long rows);
    }

    private static GroupedBatch build(int[] rowOffsets, Dims dims, Offsets offsets) {
        int count = 0;
        for (int e = 0; e + 1 < rowOffsets.length; e++) {
            count += rowOffsets[e + 1] > rowOffsets[e] ? 1 : 0;
        }
        long[] d = new long[3 * count];
        long[] o = new long[3 * count];
        int i = 0;
        for (int e = 0; e + 1 < rowOffsets.length; e++) {
            int rows = rowOffsets[e + 1] - rowOffsets[e];
            if (rows == 0) {
                continue;
            }
            System.arraycopy(dims.of(e, rows), 0, d, 3 * i, 3);
            System.arraycopy(offsets.of(e, rowOffsets[e]), 0, o, 3 * i, 3);
            i++;
        }
        return new GroupedBatch(d, o);
    }
}
