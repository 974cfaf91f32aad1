package dev.distill.runner.pipeline;

import dev.distill.core.train.TrainingResult;
import dev.distill.runner.report.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run has finished, in {@code checkpoints/progress.json}: each finished training run (a model
 * and seed) with the figures its summary entry needs, each teacher's cached logits, and the last
 * failure. Written atomically after the files it vouches for, so a model listed here is complete.
 * Immutable: each change is a new value.
 *
 * @param configFile the config file the run was started from (relative paths in it are relative to its directory)
 * @param failure    the error that stopped the last session, or null
 */
public record Progress(String configFile, String started, List<Finished> finished, Map<String, Double> logitsSeconds,
        String failure) {

    public static final String FILE = "progress.json";

    /**
     * A finished training run: the model file it wrote and what the summary says of it. A sweep point's
     * {@code testAccuracy} is null: points are chosen on validation and never tested.
     */
    public record Finished(String id, long seed, String file, Double testAccuracy, long params,
            TrainingResult result) {
    }

    public Progress {
        finished = List.copyOf(finished);
        logitsSeconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(logitsSeconds));
    }

    static Progress start(String configFile, String started) {
        return new Progress(configFile, started, List.of(), Map.of(), null);
    }

    static Progress read(Path file) {
        return Json.read(file, Progress.class, "progress file");
    }

    static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }

    /** The finished run of {@code id} with {@code seed}, or null. */
    public Finished finished(String id, long seed) {
        return finished.stream().filter(f -> f.id().equals(id) && f.seed() == seed).findFirst().orElse(null);
    }

    Progress with(Finished f) {
        List<Finished> all = new ArrayList<>(finished);
        all.add(f);
        return new Progress(configFile, started, all, logitsSeconds, failure);
    }

    Progress withLogits(String teacherId, double seconds) {
        Map<String, Double> all = new LinkedHashMap<>(logitsSeconds);
        all.put(teacherId, seconds);
        return new Progress(configFile, started, finished, all, failure);
    }

    Progress withFailure(String message) {
        return new Progress(configFile, started, finished, logitsSeconds, message);
    }
}
