package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Checks that a bad config fails with one line naming the file, the line marked {@code # <-} and the key. */
final class LocatedErrors {

    private LocatedErrors() {
    }

    static void assertError(Path file, String yaml, String keyPath, String problem) throws IOException {
        Files.writeString(file, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        List<String> lines = yaml.lines().toList();
        int line = 1 + lines.indexOf(lines.stream().filter(l -> l.contains("# <-")).findFirst().orElseThrow());
        String expected = file + ":" + line + ": " + keyPath + ": ";
        assertTrue(e.getMessage().startsWith(expected), "expected '" + expected + "...', got '" + e.getMessage() + "'");
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line");
    }
}
