package dev.moe.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NpyDTypeTest {

    @Test
    void descriptorsAndSizes() {
        assertEquals("<f4", NpyDType.FLOAT32.descr());
        assertEquals("<f8", NpyDType.FLOAT64.descr());
        assertEquals("<i4", NpyDType.INT32.descr());
        assertEquals("<i8", NpyDType.INT64.descr());
        assertEquals("|u1", NpyDType.UINT8.descr());
        assertEquals(4, NpyDType.FLOAT32.itemSize());
        assertEquals(8, NpyDType.FLOAT64.itemSize());
        assertEquals(4, NpyDType.INT32.itemSize());
        assertEquals(8, NpyDType.INT64.itemSize());
        assertEquals(1, NpyDType.UINT8.itemSize());
        assertEquals("uint8", NpyDType.UINT8.typeName());
    }

    @ParameterizedTest
    @EnumSource(NpyDType.class)
    void fromDescrFindsEveryType(NpyDType type) {
        assertSame(type, NpyDType.fromDescr(type.descr()));
        assertEquals(ByteOrder.LITTLE_ENDIAN, type.layout().order());
        assertEquals(1, type.layout().byteAlignment());
    }

    @Test
    void bigEndianIsNamedAsSuch() {
        String message = rejected(">f4");
        assertTrue(message.contains("big-endian dtype '>f4' (float32) is not supported"), message);
        assertTrue(message.contains("astype('<f4')"), message);
        assertTrue(message.contains("'|u1' (uint8)"), message);
        String other = rejected(">f2");
        assertTrue(other.startsWith("big-endian dtype '>f2' (float16)"), other);
        assertFalse(other.contains("astype"), other);
    }

    @Test
    void unsupportedTypesAreNamedWithTheSupportedOnes() {
        assertEquals("unsupported dtype '<f2' (float16); supported: '<f4' (float32), '<f8' (float64), "
                + "'<i4' (int32), '<i8' (int64), '|u1' (uint8)", rejected("<f2"));
        assertTrue(rejected("|b1").startsWith("unsupported dtype '|b1' (bool);"));
        assertTrue(rejected("<U5").startsWith("unsupported dtype '<U5' (unicode string);"));
        assertTrue(rejected("|O").startsWith("unsupported dtype '|O' (Python object);"));
        assertTrue(rejected("<c8").startsWith("unsupported dtype '<c8' (complex64);"));
        assertTrue(rejected("|i1").startsWith("unsupported dtype '|i1' (int8);"));
        assertTrue(rejected("float32").startsWith("unsupported dtype 'float32';"));
        assertTrue(rejected("").startsWith("unsupported dtype '';"));
    }

    private static String rejected(String descr) {
        return assertThrows(IllegalArgumentException.class, () -> NpyDType.fromDescr(descr)).getMessage();
    }
}
