package dev.distill.runner.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where shipped files (the digits data, the configs) live when the user does not say. */
public final class DefaultPaths {

    private DefaultPaths() {
    }

    /**
     * The shipped digits file: under {@code distill.home} (set by the launcher) or the first
     * {@code datasets/digits.csv.gz} found walking up from the working directory.
     */
    public static Path digits() {
        return shipped(Path.of("datasets", "digits.csv.gz"));
    }

    /** The Fashion-MNIST protocol's config, what {@code bench} measures unless told otherwise. */
    public static Path fashionMnistConfig() {
        return shipped(Path.of("configs", "fashion-mnist-takd.yaml"));
    }

    /**
     * The directory shipped files are found under: {@code distill.home}, else the first directory up from
     * the working directory that holds the digits file, else the working directory. A task in another JVM
     * (a Spark executor, whose working directory is its own) is given this one as its {@code distill.home}.
     */
    public static Path home() {
        String home = System.getProperty("distill.home");
        if (home != null) {
            return Path.of(home).toAbsolutePath();
        }
        Path digits = digits();
        return Files.isRegularFile(digits) ? digits.getParent().getParent() : Path.of("").toAbsolutePath();
    }

    /** A file of the distribution: under {@code distill.home}, else found walking up from the working directory. */
    private static Path shipped(Path relative) {
        String home = System.getProperty("distill.home");
        if (home != null) {
            return Path.of(home).resolve(relative);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return relative.toAbsolutePath();
    }
}
