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

    public Progress progress() {
        return Progress.read(progressFile());
    }

    public boolean hasProgress() {
        return Progress.exists(progressFile());
    }

    public void write(Progress progress) {
        write(root.relativize(progressFile()).toString(), dev.distill.runner.report.Json.pretty(progress));
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
