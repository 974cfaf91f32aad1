package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.stream.Stream;

/**
 * A run's output directory: {@code config.yaml}, {@code models/}, {@code logits/},
 * {@code metrics.jsonl}, {@code report.md} and, last, {@code summary.json}. A directory without
 * {@code summary.json} is a run that did not finish.
 */
public final class RunDirectory {

    public static final String SUMMARY = "summary.json";
    /** Checkpoints of unfinished training runs, the progress file and the config that produced them. */
    public static final String CHECKPOINTS = "checkpoints";
    public static final String METRICS = "metrics.jsonl";

    private final Path root;

    private RunDirectory(Path root) {
        this.root = root;
    }

    /**
     * A new run directory: {@code out} if given (it must not exist or be empty), else
     * {@code runs/<name>-<yyyyMMdd-HHmmss>} (with a suffix if that exists).
     */
    public static RunDirectory create(String name, Path out) {
        Path root;
        if (out != null) {
            root = out;
            if (Files.exists(root)) {
                if (Files.exists(root.resolve(SUMMARY))) {
                    throw new DistillException(root + ": already holds a finished run; choose another --out");
                }
                try (Stream<Path> entries = Files.list(root)) {
                    if (entries.findAny().isPresent()) {
                        throw new DistillException(root + ": is not empty; choose another --out" + (Progress.exists(
                                root.resolve(CHECKPOINTS).resolve(Progress.FILE))
                                        ? " (it holds an unfinished run: continue it with distill resume " + root + ")"
                                        : ""));
                    }
                } catch (IOException e) {
                    throw new DistillException(root + ": cannot read: " + e.getMessage(), e);
                }
            }
        } else {
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            root = Path.of("runs", name + "-" + stamp);
            for (int i = 2; Files.exists(root); i++) {
                root = Path.of("runs", name + "-" + stamp + "-" + i);
            }
        }
        try {
            Files.createDirectories(root.resolve("models"));
            Files.createDirectories(root.resolve("logits"));
        } catch (IOException e) {
            throw new DistillException(root + ": cannot create run directory: " + e.getMessage(), e);
        }
        return new RunDirectory(root);
    }

    /** An existing run directory that a run was started in (for {@code resume} and {@code status}). */
    public static RunDirectory open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DistillException(dir + ": no such run directory");
        }
        return new RunDirectory(dir);
    }

    /** An existing run directory (for {@code compare} and {@code report}). */
    public static Path finishedSummary(Path dir) {
        Path summary = dir.resolve(SUMMARY);
        if (!Files.isDirectory(dir)) {
            throw new DistillException(dir + ": no such run directory");
        }
        if (!Files.isRegularFile(summary)) {
            throw new DistillException(dir + ": has no " + SUMMARY + ": the run did not finish (or this is not a run directory)");
        }
        return summary;
    }

    public Path root() {
        return root;
    }

    public Path model(String fileName) {
        return root.resolve("models").resolve(fileName);
    }

    /** The checkpoint directory of one training run ({@code <id>-seed<k>}). */
    public Path checkpoints(String id, long seed) {
        return root.resolve(CHECKPOINTS).resolve(id + "-seed" + seed);
    }

    public Path progressFile() {
        return root.resolve(CHECKPOINTS).resolve(Progress.FILE);
    }

    /** The config as the run's checkpoints were made with it (config.yaml itself may be edited later). */
    public Path checkpointedConfig() {
        return root.resolve(CHECKPOINTS).resolve("config.yaml");
    }

    public boolean finished() {
        return Files.isRegularFile(root.resolve(SUMMARY));
    }

    /** The copy of the progress record written after it, read when the record itself is damaged. */
    public Path progressBackup() {
        return root.resolve(CHECKPOINTS).resolve(Progress.BACKUP);
    }

    public Progress progress() {
        return progress(warning -> { });
    }

    /**
     * What the run finished: the progress record, or its backup if the record is damaged (said to
     * {@code warn} in one line); a one-line {@link DistillException} with the command to run if both are.
     */
    public Progress progress(java.util.function.Consumer<String> warn) {
        try {
            return Progress.read(progressFile());
        } catch (DistillException damaged) {
            try {
                Progress backup = Progress.read(progressBackup());
                warn.accept(damaged.getMessage() + "; using its backup " + root.relativize(progressBackup()));
                return backup;
            } catch (DistillException alsoDamaged) {
                throw new DistillException(damaged.getMessage() + "; and its backup " + alsoDamaged.getMessage()
                        .replace(progressBackup().toString(), root.relativize(progressBackup()).toString())
                        + ": what the run finished cannot be told; start it again: distill run "
                        + root.resolve("config.yaml") + " --out NEW_DIR", damaged);
            }
        }
    }

    public boolean hasProgress() {
        return Progress.exists(progressFile()) || Progress.exists(progressBackup());
    }

    /** Writes the progress record, then its backup (each atomically): one of them is always whole. */
    public void write(Progress progress) {
        String text = Progress.text(progress);
        write(root.relativize(progressFile()).toString(), text);
        write(root.relativize(progressBackup()).toString(), text);
    }

    /** The size and SHA-256 of a file of the run, to record beside it. */
    public dev.distill.core.io.FileDigest digest(String relative) {
        try {
            return dev.distill.core.io.FileDigest.of(root.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + root.resolve(relative) + " back: " + e.getMessage(), e);
        }
    }

    /**
     * What is wrong with a model file of a finished run ({@code relative}, listed in {@code summary.json}
     * with {@code bytes}), or null: a size that is not the one recorded, or a file that does not load as
     * the product loads it (checked whole: a zip's CRCs, a sparse file's checksum, a packed file's reader).
     */
    public String damage(String relative, long bytes) {
        Path file = root.resolve(relative);
        try {
            if (Files.isRegularFile(file) && Files.size(file) != bytes) {
                return "truncated or damaged: " + Files.size(file) + " bytes, " + SUMMARY + " says " + bytes;
            }
            dev.distill.core.modelfile.ModelReader.network(file);
            return null;
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            return m.startsWith(file.toString()) ? m.substring(file.toString().length() + 2) : m;
        }
    }

    /**
     * What is wrong with a finished training run's model file (missing, truncated, damaged), or null
     * if it is the file that was written: checked against its recorded digest, or, for a run made
     * before digests were recorded, checked whole as a DL4J zip.
     */
    public String damage(Progress.Finished f) {
        Path file = root.resolve(f.file());
        if (f.digest() != null) {
            return f.digest().check(file, Progress.FILE);
        }
        try {
            dev.distill.core.io.ModelFileCheck.zip(file);
            return null;
        } catch (DistillException e) {
            return e.getMessage().startsWith(file.toString()) ? e.getMessage().substring(file.toString().length() + 2)
                    : e.getMessage();
        }
    }

    /**
     * Keeps only the lines of {@code metrics.jsonl} that do not match {@code drop} (a resumed training
     * run's epochs after its checkpoint are trained again and logged again).
     */
    public void rewriteLines(String relative, java.util.function.Predicate<String> drop) {
        Path file = root.resolve(relative);
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            java.util.List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            java.util.List<String> kept = lines.stream().filter(drop.negate()).toList();
            if (kept.size() != lines.size()) {
                write(relative, kept.stream().map(l -> l + "\n").collect(java.util.stream.Collectors.joining()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path logits(String id) {
        return root.resolve("logits").resolve(id + ".bin");
    }

    /** Writes a whole file atomically. */
    public void write(String relative, String content) {
        ModelFiles.writeAtomically(root.resolve(relative),
                tmp -> Files.writeString(tmp, content, StandardCharsets.UTF_8));
    }

    /** Appends one line to a log file (metrics are appended as they come, to be tailed). */
    public void appendLine(String relative, String line) {
        try {
            Files.writeString(root.resolve(relative), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw dev.distill.core.DiskFullException.writing(root.resolve(relative), e);
        }
    }
}
