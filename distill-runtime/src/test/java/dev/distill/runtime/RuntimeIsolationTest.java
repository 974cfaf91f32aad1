package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The runtime stands alone: its compiled classes name no class outside the JDK and this package (a class
 * file's constant pool holds, as UTF-8, every class it refers to), they are Java 11 bytecode, and its pom
 * declares no dependency but test-scoped JUnit.
 */
class RuntimeIsolationTest {

    private static List<Path> classFiles() throws IOException {
        Path root = Path.of(Model.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".class")).collect(Collectors.toList());
        }
    }

    @Test
    void noClassReachesDl4jNd4jOrAnythingOutsideTheJdk() throws IOException {
        List<Path> classes = classFiles();
        assertTrue(classes.size() > 10, "found the runtime's classes: " + classes.size());
        for (Path c : classes) {
            String pool = new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1);
            for (String foreign : new String[] {"org/nd4j", "org/deeplearning4j", "org/bytedeco", "dev/distill/core",
                    "dev/distill/models", "dev/distill/runner", "com/fasterxml", "org/apache"}) {
                assertFalse(pool.contains(foreign), c.getFileName() + " refers to " + foreign);
            }
        }
    }

    @Test
    void theClassesAreJava11Bytecode() throws IOException {
        for (Path c : classFiles()) {
            byte[] b = Files.readAllBytes(c);
            int major = (b[6] & 0xFF) << 8 | b[7] & 0xFF;
            assertEquals(55, major, c.getFileName() + ": class file version " + major);
        }
    }

    @Test
    void thePomDeclaresNoDependency() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        assertTrue(pom.contains("<artifactId>distill-runtime</artifactId>"), "the runtime's own pom");
        assertFalse(pom.contains("<dependency>"), "distill-runtime/pom.xml declares a dependency");
        String parent = Files.readString(Path.of("../pom.xml"));
        String inherited = parent.substring(parent.lastIndexOf("</dependencyManagement>"));
        inherited = inherited.substring(0, inherited.indexOf("<build>"));
        assertEquals(1, inherited.split("<dependency>", -1).length - 1, "the parent adds one dependency to all");
        assertTrue(inherited.contains("<artifactId>junit-jupiter</artifactId>") && inherited.contains("<scope>test"),
                "and it is JUnit, test scope: " + inherited);
    }
}
