package dev.moe.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The contents of a {@code .npy} header dictionary, and the encoding of a header exactly as
 * {@code numpy.save} writes it.
 *
 * @param descr the NumPy type string, not yet checked against the supported dtypes
 * @param fortranOrder whether the data is stored in Fortran (column-major) order
 * @param shape the dimensions, each non-negative
 */
record NpyHeader(String descr, boolean fortranOrder, long[] shape) {

    /** The magic string every {@code .npy} file starts with. */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** numpy aligns the start of the data to this many bytes. */
    private static final int ARRAY_ALIGN = 64;

    /** numpy leaves room in the header for the growth axis to reach this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    NpyHeader {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Encodes the magic string, version, header length and header dictionary for a C-order array, byte
     * for byte as numpy 2.x writes it: format 1.0, or 2.0 when the header does not fit in 65535 bytes,
     * padded with spaces and a final newline so that the data starts at a multiple of 64 bytes.
     */
    static byte[] encode(NpyDType dtype, long[] shape) {
        StringBuilder dict = new StringBuilder()
                .append("{'descr': '").append(dtype.descr())
                .append("', 'fortran_order': False, 'shape': ").append(NpyArray.formatShape(shape))
                .append(", }");
        if (shape.length > 0) {
            dict.repeat(' ', GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length());
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.US_ASCII);
        int headerLengthBytes = 2;
        long padded = paddedLength(text.length, headerLengthBytes);
        if (padded > 0xFFFF) {
            headerLengthBytes = 4;
            padded = paddedLength(text.length, headerLengthBytes);
        }
        int prefix = MAGIC.length + 2 + headerLengthBytes;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(prefix + padded)).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (headerLengthBytes == 2 ? 1 : 2)).put((byte) 0);
        if (headerLengthBytes == 2) {
            out.putShort((short) padded);
        } else {
            out.putInt((int) padded);
        }
        out.put(text);
        while (out.remaining() > 1) {
            out.put((byte) ' ');
        }
        out.put((byte) '\n');
        return out.array();
    }

    /** Header length including padding and the newline; numpy pads by 1 to 64 bytes, never 0. */
    private static long paddedLength(int textLength, int headerLengthBytes) {
        long withNewline = textLength + 1L;
        long prefix = MAGIC.length + 2 + headerLengthBytes;
        long pad = ARRAY_ALIGN - (prefix + withNewline) % ARRAY_ALIGN;
        return withNewline + pad;
    }
}
