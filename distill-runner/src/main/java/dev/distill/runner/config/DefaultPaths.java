package dev.distill.runner.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shipped digits file lives when a config does not say. */
public final class DefaultPaths {

    private DefaultPaths() {
    }

    /**
     * The shipped digits file: under {@code distill.home} (set by the launcher) or the first
     * {@code datasets/digits.csv.gz} found walking up from the working directory.
     */
    public static Path digits() {
        String home = System.getProperty("distill.home");
        if (home != null) {
            return Path.of(home, "datasets", "digits.csv.gz");
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("datasets").resolve("digits.csv.gz");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return Path.of("datasets", "digits.csv.gz").toAbsolutePath();
    }
}
