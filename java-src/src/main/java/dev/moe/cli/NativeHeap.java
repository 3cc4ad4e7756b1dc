package dev.moe.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bytes this process has allocated with {@code malloc} and not freed, over all of glibc's arenas
 * and its mmapped chunks, read from {@code malloc_info(3)}. That is the native heap: what the native
 * libraries, OpenMP and FFM arenas ({@code Arena.allocate} mallocs) hold, and the JVM's own C heap. The
 * Java heap, metaspace, the code cache and thread stacks are mapped directly and are not in it, so a
 * growing Java heap does not look like a native leak.
 *
 * <p>{@code mallinfo2(3)} would be simpler but covers only the main arena, while most threads allocate
 * from arenas of their own.
 */
@SuppressWarnings("restricted")  // calling libc through FFM is this class's purpose
final class NativeHeap {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN_MEMSTREAM = libc("open_memstream",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle MALLOC_INFO = libc("malloc_info",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FCLOSE = libc("fclose", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    /** The process-wide totals follow the last per-arena {@code </heap>}. */
    private static final Pattern TOTAL = Pattern.compile("<(total|system) type=\"(fast|rest|mmap|current)\"[^>]*? size=\"(\\d+)\"");

    /**
     * A sanitizer runtime preloaded into the process (AddressSanitizer's libasan and its kin) replaces
     * malloc: glibc's malloc_info then describes a heap nobody uses, and glibc's free on the sanitizer's
     * buffers aborts. Such a process has no glibc heap to report.
     */
    private static final boolean FOREIGN_ALLOCATOR = String.valueOf(System.getenv("LD_PRELOAD")).matches(".*lib[a-z]*san\\b.*");

    private NativeHeap() {}

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        SymbolLookup libc = LINKER.defaultLookup();
        return libc.find(name).map(addr -> LINKER.downcallHandle(addr, fd)).orElse(null);
    }

    /** {@return whether this C library reports its heap (glibc does)} */
    static boolean available() {
        return !FOREIGN_ALLOCATOR && OPEN_MEMSTREAM != null && MALLOC_INFO != null && FCLOSE != null && FREE != null;
    }

    /** {@return malloc'd bytes in use now, or empty where the C library cannot say} */
    static OptionalLong inUseBytes() {
        if (!available()) {
            return OptionalLong.empty();
        }
        try {
            return inUseBytes(report());
        } catch (Throwable t) {
            return OptionalLong.empty();
        }
    }

    /**
     * The bytes in use according to a {@code malloc_info} report: obtained from the system, minus
     * what is free in the bins (top chunk included), plus the mmapped chunks.
     *
     * @param xml the report
     * @return the bytes, or empty if the report lacks the totals
     */
    static OptionalLong inUseBytes(String xml) {
        int last = xml.lastIndexOf("</heap>");
        Matcher m = TOTAL.matcher(last < 0 ? xml : xml.substring(last));
        long fast = -1;
        long rest = -1;
        long mmap = -1;
        long system = -1;
        while (m.find()) {
            long v = Long.parseLong(m.group(3));
            switch (m.group(2)) {
                case "fast" -> fast = v;
                case "rest" -> rest = v;
                case "mmap" -> mmap = v;
                default -> system = v;
            }
        }
        if (fast < 0 || rest < 0 || mmap < 0 || system < 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(system - fast - rest + mmap);
    }

    /** The {@code malloc_info} XML, written into a memory stream. */
    private static String report() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment stream = (MemorySegment) OPEN_MEMSTREAM.invokeExact(buf, size);
            if (stream.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("open_memstream failed");
            }
            int rc = (int) MALLOC_INFO.invokeExact(0, stream);
            int closed = (int) FCLOSE.invokeExact(stream);
            MemorySegment text = buf.get(ValueLayout.ADDRESS, 0);
            try {
                if (rc != 0 || closed != 0) {
                    throw new IllegalStateException("malloc_info failed");
                }
                long n = size.get(ValueLayout.JAVA_LONG, 0);
                return new String(text.reinterpret(n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
            } finally {
                FREE.invokeExact(text);
            }
        }
    }
}
