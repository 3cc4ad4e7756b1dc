package dev.moe.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library guide's example (docs/library.md, "Depending on it") compiles as printed (its imports are
 * complete) and runs, and the README gives this build's Maven coordinates.
 */
class ReadmeLibraryUseTest {
    @TempDir
    Path dir;

    private static Path readme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("java-src"))) {
                return p.resolve("README.md");
            }
        }
        throw new AssertionError("no README.md above " + Path.of("").toAbsolutePath());
    }

    @Test
    void theExampleCompilesAndRuns() throws Exception {
        String text = Files.readString(readme().resolveSibling("docs/library.md"));
        int section = text.indexOf("## Depending on it");
        assertTrue(section >= 0, "docs/library.md has no \"## Depending on it\" section");
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(text.substring(section));
        assertTrue(m.find(), "no ```java block in \"Depending on it\"");
        String source = m.group(1);
        Matcher cls = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(cls.find(), "the example is not a public class");
        Path file = dir.resolve(cls.group(1) + ".java");
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac);
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"),
                "-Xlint:all", "-Werror", file.toString());
        assertEquals(0, rc, diagnostics.toString(StandardCharsets.UTF_8));
        String out = run(cls.group(1));
        assertTrue(out.contains("same ids: true") && out.contains("C has 2048 values"), out);
    }

    private String run(String className) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            loader.loadClass(className).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } catch (IOException e) {
            throw new AssertionError(e);
        } finally {
            System.setOut(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theCoordinatesAreThisBuildsVersion() throws IOException {
        String text = Files.readString(readme());
        String pom = Files.readString(readme().resolveSibling("release/pom.xml"));
        Matcher v = Pattern.compile("<version>([^<]+)</version>").matcher(pom);
        assertTrue(v.find());
        for (String s : List.of("<artifactId>moe</artifactId>", "<groupId>dev.moe</groupId>", "<version>" + v.group(1) + "</version>")) {
            assertTrue(text.contains(s), "README lacks " + s);
        }
    }
}
