package dev.moe.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The outputs of one operation, written all or none: every output and input is declared up front and
 * checked before any work, each output is staged in a temporary file next to it, and only when all are
 * complete are they renamed into place. A failure at any point leaves every file that existed before
 * untouched and no temporary file behind.
 *
 * <pre>{@code
 * try (OutputFiles out = OutputFiles.builder()
 *         .input("--logits", logits)
 *         .output("--out-ids", ids).output("--out-weights", weights)
 *         .open()) {                          // checks; throws FileArgumentException before any work
 *     ... compute ...
 *     out.write(ids, Npy.contents(NpyDType.INT32, shape, idData));
 *     out.write(weights, Npy.contents(NpyDType.FLOAT32, shape, weightData));
 *     out.commit();                           // renames both; close() without commit() removes the staged files
 * }
 * }</pre>
 *
 * <p>{@link Builder#open()} refuses, with a {@link FileArgumentException} naming the output's label
 * and path: a missing or non-directory parent, a directory that is not writable, an existing output that
 * is a directory, is read-only, or is not a regular file (a FIFO or device is never replaced: such
 * outputs are refused rather than written through), a symbolic link to a missing file, and an output
 * that is the same file as an input or as another output. Sameness is decided on real paths (symbolic
 * links and {@code ..} resolved) and, when both files exist, {@link Files#isSameFile} (hard links). An
 * existing output reached through a symbolic link is replaced at the link's target; the link stays.
 * Inputs must exist and be readable regular files or directories.
 *
 * <p>Staged files are named {@code .NAME.<random>.tmp} in the output's directory, forced to disk before
 * the rename, and registered with a JVM shutdown hook that deletes them on SIGTERM, SIGINT or
 * {@code System.exit}. A replaced file keeps its permission bits. The renames of {@link #commit()} are
 * atomic one by one; they run after every output is complete and after re-checking every target, so
 * they fail only when something else changes the directories meanwhile (the error then says which
 * outputs were already replaced). Errors name the user's path and the cause, never the temporary file.
 * Not thread-safe.
 */
public final class OutputFiles implements AutoCloseable {
    private final List<Output> outputs;
    private boolean committed;

    /** One declared output: where the user pointed, and the file that is replaced. */
    private static final class Output {
        final String label;
        final Path given;
        /** The file the rename replaces: the real path of an existing output, else its real directory + name. */
        final Path target;
        final boolean existed;
        Path staged;

        Output(String label, Path given, Path target, boolean existed) {
            this.label = label;
            this.given = given;
            this.target = target;
            this.existed = existed;
        }

        String describe() {
            return (label == null ? "" : label + " ") + given;
        }
    }

    private OutputFiles(List<Output> outputs) {
        this.outputs = outputs;
    }

    /** {@return a builder to declare the inputs and outputs} */
    public static Builder builder() {
        return new Builder();
    }

    /** Declares the inputs and outputs of one operation; {@link #open()} checks them. */
    public static final class Builder {
        private record Declared(String label, Path file) {}

        private final List<Declared> inputs = new ArrayList<>();
        private final List<Declared> outputs = new ArrayList<>();

        private Builder() {}

        /**
         * Declares an input, which no output may be.
         *
         * @param label what the caller calls it (e.g. {@code "--logits"}), or null
         * @param file  the input; null (an optional input not given) is ignored
         * @return this builder
         */
        public Builder input(String label, Path file) {
            if (file != null) {
                inputs.add(new Declared(label, file));
            }
            return this;
        }

        /**
         * Declares an output.
         *
         * @param label what the caller calls it (e.g. {@code "--out-ids"}), or null
         * @param file  the output; null (an optional output not asked for) is ignored
         * @return this builder
         */
        public Builder output(String label, Path file) {
            if (file != null) {
                outputs.add(new Declared(label, file));
            }
            return this;
        }

        /**
         * Checks every declared file (see the class description); creates nothing.
         *
         * @return the outputs, ready to be written
         * @throws FileArgumentException naming the first unusable file, its label and the problem
         */
        public OutputFiles open() throws FileArgumentException {
            List<Path> inputKeys = new ArrayList<>();
            for (Declared in : inputs) {
                InputFiles.check(in.label(), in.file());
                inputKeys.add(realPath(in.label(), in.file()));
            }
            List<Output> checked = new ArrayList<>();
            for (Declared out : outputs) {
                Output o = checkOutput(out.label(), out.file());
                for (int i = 0; i < inputs.size(); i++) {
                    if (same(o.target, o.existed, inputKeys.get(i), true)) {
                        Declared in = inputs.get(i);
                        throw new FileArgumentException(o.label, o.given, "is the same file as the input "
                                + (in.label() == null ? "" : in.label() + " ") + in.file() + "; write the output elsewhere");
                    }
                }
                for (Output earlier : checked) {
                    if (same(o.target, o.existed, earlier.target, earlier.existed)) {
                        throw new FileArgumentException(o.label, o.given, "is the same file as the output " + earlier.describe()
                                + "; give each output its own file");
                    }
                }
                checked.add(o);
            }
            return new OutputFiles(checked);
        }

        private static Output checkOutput(String label, Path file) throws FileArgumentException {
            BasicFileAttributes attributes = attributesOrNull(label, file);
            if (attributes == null) {
                Path abs = file.toAbsolutePath();
                Path parent = abs.getParent();
                Path shown = file.getParent() != null ? file.getParent() : parent;
                BasicFileAttributes dir = attributesOrNull(label, parent);
                if (dir == null) {
                    throw new FileArgumentException(label, file, "directory " + shown + " does not exist");
                }
                if (!dir.isDirectory()) {
                    throw new FileArgumentException(label, file, shown + " is not a directory");
                }
                Path realDir = realPath(label, parent);
                requireWritableDirectory(label, file, realDir);
                return new Output(label, file, realDir.resolve(abs.getFileName()), false);
            }
            if (attributes.isDirectory()) {
                throw new FileArgumentException(label, file, "is a directory");
            }
            if (!attributes.isRegularFile()) {
                throw new FileArgumentException(label, file, "is not a regular file (a FIFO, socket or device); refusing to replace it");
            }
            Path target = realPath(label, file);
            if (!Files.isWritable(target)) {
                throw new FileArgumentException(label, file, "permission denied (the file is read-only)");
            }
            requireWritableDirectory(label, file, target.getParent());
            return new Output(label, file, target, true);
        }

        /** The file's attributes, symbolic links followed; null if it does not exist (a dangling link is an error). */
        private static BasicFileAttributes attributesOrNull(String label, Path file) throws FileArgumentException {
            try {
                return Files.readAttributes(file, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                if (Files.isSymbolicLink(file)) {
                    throw new FileArgumentException(label, file, "is a symbolic link to a missing file");
                }
                return null;
            } catch (IOException e) {
                throw new FileArgumentException(label, file, InputFiles.reason(e));
            }
        }

        private static void requireWritableDirectory(String label, Path file, Path dir) throws FileArgumentException {
            if (!Files.isWritable(dir)) {
                throw new FileArgumentException(label, file, "cannot create files in directory " + dir
                        + " (permission denied or a read-only file system)");
            }
        }

        private static Path realPath(String label, Path file) throws FileArgumentException {
            try {
                return file.toRealPath();
            } catch (IOException e) {
                throw new FileArgumentException(label, file, InputFiles.reason(e));
            }
        }

        private static boolean same(Path a, boolean aExists, Path b, boolean bExists) throws FileArgumentException {
            if (a.equals(b)) {
                return true;
            }
            try {
                return aExists && bExists && Files.isSameFile(a, b);
            } catch (IOException e) {
                throw new FileArgumentException(null, a, InputFiles.reason(e));
            }
        }
    }

    /**
     * Stages {@code bytes} as the new contents of a declared output.
     *
     * @param output the output, as declared
     * @param bytes  its complete contents
     * @throws IOException if staging fails; the message names the output, not the temporary file
     */
    public void write(Path output, byte[] bytes) throws IOException {
        write(output, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /**
     * Stages what {@code body} writes as the new contents of a declared output. On failure the staged
     * file is removed and the exception rethrown (an {@link IOException} with a message naming the
     * output and the cause).
     *
     * @param output the output, as declared (the same {@link Path})
     * @param body   writes the complete contents into a new, empty file
     * @throws IOException if staging fails
     * @throws IllegalArgumentException if {@code output} was not declared
     * @throws IllegalStateException if it was already written, or the outputs were committed or closed
     */
    public void write(Path output, AtomicFiles.ChannelWriter body) throws IOException {
        Objects.requireNonNull(body, "body");
        Output o = find(output);
        if (committed) {
            throw new IllegalStateException("the outputs were already committed");
        }
        if (o.staged != null) {
            throw new IllegalStateException(o.describe() + " was already written");
        }
        Path temp;
        try {
            temp = TempFiles.create(o.target.getParent(), o.target.getFileName().toString());
        } catch (IOException e) {
            throw failure(o, null, e);
        }
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                body.write(channel);
                channel.force(true);
            }
            if (o.existed) {
                copyPermissions(o.target, temp);
            }
            o.staged = temp;
        } catch (IOException e) {
            IOException failure = failure(o, temp, e);
            suppress(failure, TempFiles.discard(temp));
            throw failure;
        } catch (RuntimeException | Error e) {
            suppress(e, TempFiles.discard(temp));
            throw e;
        }
    }

    /**
     * Renames every staged output into place, after checking that each target is still a regular file
     * or absent.
     *
     * @throws IOException if an output cannot be put in place; the rest are then removed and the
     *         message says which outputs, if any, were already replaced
     * @throws IllegalStateException if an output was not written, or the outputs were already committed
     */
    public void commit() throws IOException {
        if (committed) {
            throw new IllegalStateException("the outputs were already committed");
        }
        for (Output o : outputs) {
            if (o.staged == null) {
                throw new IllegalStateException(o.describe() + " was not written");
            }
        }
        List<Output> done = new ArrayList<>();
        try {
            TempFiles.renameAll(() -> {
                for (Output o : outputs) {
                    requireReplaceable(o);
                }
                for (Output o : outputs) {
                    try {
                        Files.move(o.staged, o.target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (IOException e) {
                        throw failure(o, o.staged, e);
                    }
                    TempFiles.renamed(o.staged);
                    o.staged = null;
                    done.add(o);
                }
            });
        } catch (IOException e) {
            IOException failure = done.isEmpty() ? e : new IOException(e.getMessage() + " (already replaced: "
                    + String.join(", ", done.stream().map(Output::describe).toList()) + ")", e);
            discardStaged(failure);
            throw failure;
        }
        committed = true;
        Set<Path> dirs = new LinkedHashSet<>();
        for (Output o : outputs) {
            dirs.add(o.target.getParent());
        }
        dirs.forEach(OutputFiles::syncDirectory);
    }

    /** Removes the staged files unless {@link #commit()} succeeded; files that existed before stay as they were. */
    @Override
    public void close() {
        if (!committed) {
            discardStaged(null);
        }
    }

    private void discardStaged(Throwable into) {
        for (Output o : outputs) {
            if (o.staged != null) {
                suppress(into, TempFiles.discard(o.staged));
                o.staged = null;
            }
        }
    }

    private Output find(Path output) {
        for (Output o : outputs) {
            if (o.given.equals(output)) {
                return o;
            }
        }
        throw new IllegalArgumentException(output + " was not declared as an output");
    }

    /** Refuses, at commit time, a target that became a directory, FIFO or device since the checks. */
    private static void requireReplaceable(Output o) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(o.target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!a.isRegularFile() && !a.isSymbolicLink()) {
            throw new FileArgumentException(o.label, o.given, a.isDirectory() ? "is now a directory"
                    : "is now not a regular file (a FIFO, socket or device); refusing to replace it");
        }
    }

    /** An IOException naming the user's output and the cause, never the temporary file. */
    private static IOException failure(Output o, Path temp, IOException e) {
        if (e instanceof FileArgumentException fae) {
            return fae;
        }
        String reason = InputFiles.reason(e);
        if (temp != null) {
            reason = reason.replace(temp.toString(), o.given.toString());
        }
        return new IOException(o.describe() + ": " + reason, e);
    }

    private static void copyPermissions(Path from, Path to) {
        PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class);
        if (view == null) {
            return;
        }
        try {
            view.setPermissions(Files.readAttributes(from, PosixFileAttributes.class).permissions());
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the new file keeps the umask's permissions
        }
    }

    private static void suppress(Throwable into, Throwable e) {
        if (into != null && e != null) {
            into.addSuppressed(e);
        }
    }

    /** Makes the renames durable where the platform allows opening a directory; best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not supported here (e.g. Windows); the files themselves were forced before the renames
        }
    }
}
