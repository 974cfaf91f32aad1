package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import dev.distill.core.io.FileDigest;
import dev.distill.core.train.TrainingResult;
import dev.distill.runner.report.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    /** A second copy, written after the first: a record damaged afterwards is read from it. */
    public static final String BACKUP = "progress.backup.json";

    /**
     * A finished training run: the model file it wrote and what the summary says of it. A sweep point's
     * {@code testAccuracy} is null: points are chosen on validation and never tested.
     *
     * @param digest the model file's size and SHA-256 when it was written (null in runs made before
     *               they were recorded)
     */
    public record Finished(String id, long seed, String file, Double testAccuracy, long params,
            TrainingResult result, FileDigest digest) {
    }

    public Progress {
        finished = List.copyOf(finished);
        logitsSeconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(logitsSeconds));
    }

    static Progress start(String configFile, String started) {
        return new Progress(configFile, started, List.of(), Map.of(), null);
    }

    /**
     * The progress record as written: its JSON with, on the line after the opening brace, the SHA-256
     * of the rest of the text, so that a damaged record is told from a good one.
     */
    static String text(Progress progress) {
        String json = Json.pretty(progress);
        return json.substring(0, 2) + SHA_KEY + FileDigest.sha256Of(json.getBytes(StandardCharsets.UTF_8)) + "\",\n"
                + json.substring(2);
    }

    private static final String SHA_KEY = "  \"sha256\" : \"";
    /** No progress record comes near this; a larger file is not one. */
    private static final int MAX_BYTES = 64 << 20;

    /**
     * The record in {@code file}, or a one-line {@link DistillException} saying what is wrong with it:
     * missing, not JSON, or not the text its SHA-256 line vouches for (a record written before the
     * line existed is read without it).
     */
    static Progress read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DistillException(file + ": missing");
        }
        String text;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new DistillException(file + ": damaged: more than " + MAX_BYTES + " bytes, not a progress record");
            }
            text = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DistillException(file + ": unreadable: " + e.getMessage(), e);
        }
        if (text.startsWith("{\n" + SHA_KEY)) {
            int end = text.indexOf('\n', 2);
            String recorded = text.substring(2 + SHA_KEY.length(), Math.max(2 + SHA_KEY.length(), end - 2));
            String rest = "{\n" + text.substring(end + 1);
            if (!FileDigest.sha256Of(rest.getBytes(StandardCharsets.UTF_8)).equals(recorded)) {
                throw new DistillException(file + ": damaged: its text is not the one its sha256 line vouches for");
            }
        }
        return Json.read(text, file, Progress.class, "progress record");
    }

    /** This record without the finished runs {@code drop} accepts. */
    Progress without(java.util.function.Predicate<Finished> drop) {
        return new Progress(configFile, started, finished.stream().filter(drop.negate()).toList(), logitsSeconds,
                failure);
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
