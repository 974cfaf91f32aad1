package dev.distill.runner.testing;

import dev.distill.runner.cli.DistillCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** One run of the command line in this JVM, with what it printed; and the repository's own files. */
public record CliRun(int code, String out, String err) {

    /** Runs {@code distill <args>} through {@link DistillCli#execute} and captures both streams. */
    public static CliRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = DistillCli.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Copies the directory tree {@code from} to {@code to} (a run directory, to damage or resume a copy). */
    public static Path copyTree(Path from, Path to) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    /**
     * {@code distill run} of the shipped digits compression config into {@code out}, training cut short
     * (teacher 2 epochs, student 4), with {@code stages} (a YAML list) instead of its own.
     */
    public static CliRun digitsCompression(Path out, String stages) {
        return digitsCompression(out, stages, 2, 4);
    }

    /** As {@link #digitsCompression(Path, String)}, with the teacher's and the student's epochs given. */
    public static CliRun digitsCompression(Path out, String stages, int teacherEpochs, int studentEpochs) {
        return of("run", repoFile("configs/digits-compress.yaml").toString(), "--out", out.toString(), "--set",
                "models.teacher.training.epochs=" + teacherEpochs, "--set",
                "models.student.training.epochs=" + studentEpochs, "--set", "stages=" + stages);
    }

    /**
     * {@code --set}-style overrides that declare each named model as a small MLP for 10 classes. The
     * Fashion-MNIST study configs load their teacher (and assistant) from a run directory a fresh clone
     * does not have; a test that reads such a config for its other parts declares those models instead.
     */
    public static java.util.List<String> declaredModels(String... names) {
        return java.util.Arrays.stream(names).map(name -> "models." + name + "={layers: [{type: dense, units: 8,"
                + " activation: relu}, {type: output, classes: 10}]}").toList();
    }

    /** The models of a finished run's {@code summary.json}, by id. */
    public static java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> summaryModels(Path runDir)
            throws java.io.IOException {
        java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> models = new java.util.LinkedHashMap<>();
        for (com.fasterxml.jackson.databind.JsonNode m : new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(runDir.resolve("summary.json").toFile()).get("models")) {
            models.put(m.get("id").asText(), m);
        }
        return models;
    }

    /** A file of the repository (configs/, datasets/), found by walking up from the working directory. */
    public static Path repoFile(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
