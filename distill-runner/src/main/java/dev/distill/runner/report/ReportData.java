package dev.distill.runner.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.DistillException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the report shows, read from a run directory's files alone (summary, metrics, config,
 * predictions, model files), so that {@code distill report} can redraw the page of any finished run
 * without its data or config source. Every read error is a {@link DistillException} naming the file.
 *
 * @param testLabels  the test labels, or null when the run saved no predictions (runs made before
 *                    predictions were kept)
 * @param predictions predicted test classes per model id (the model in its file), where saved
 * @param saved       what each model's file stores (non-zero parameters, bit widths), per model id
 */
public record ReportData(Path dir, RunSummary summary, String configYaml, List<Epoch> epochs, int[] testLabels,
        Map<String, int[]> predictions, Map<String, SavedModel> saved) {

    public static final String METRICS = "metrics.jsonl";
    public static final String CONFIG = "config.yaml";
    public static final String SUMMARY = "summary.json";

    /** One line of metrics.jsonl: one epoch of one training run. */
    public record Epoch(String model, long seed, int epoch, double trainLoss, double validationAccuracy, double seconds) {
    }

    /** A finished run directory: summary.json must exist (it is written last). */
    public static ReportData read(Path dir) {
        return of(dir, readSummary(dir));
    }

    /** The summary of a finished run directory, with the errors {@code compare} and {@code report} share. */
    public static RunSummary readSummary(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DistillException(dir + ": no such run directory");
        }
        Path summary = dir.resolve(SUMMARY);
        if (!Files.isRegularFile(summary)) {
            throw new DistillException(summary + ": missing: the run did not finish (or this is not a run directory)");
        }
        RunSummary s = Json.readSummary(summary);
        if (s.dataset() == null || s.name() == null) {
            throw new DistillException(summary + ": not a run summary (no " + (s.name() == null ? "name" : "dataset") + ")");
        }
        return s;
    }

    /**
     * The rest of the run directory around a summary held in memory: the pipeline builds its report
     * this way before it writes summary.json, which must stay the last file written.
     */
    public static ReportData of(Path dir, RunSummary summary) {
        String config = readText(dir.resolve(CONFIG));
        List<Epoch> epochs = readMetrics(dir.resolve(METRICS));
        int classes = summary.dataset().classes();
        int[] labels = Predictions.read(dir.resolve(Predictions.file(Predictions.LABELS)), "labels",
                summary.dataset().test(), classes);
        Map<String, int[]> predictions = new LinkedHashMap<>();
        Map<String, SavedModel> saved = new LinkedHashMap<>();
        for (RunSummary.ModelEntry m : summary.models()) {
            if (labels != null) {
                int[] p = Predictions.read(dir.resolve(Predictions.file(m.id())), "predicted", labels.length, classes);
                if (p != null) {
                    predictions.put(m.id(), p);
                }
            }
            saved.put(m.id(), SavedModel.read(dir.resolve(m.file())));
        }
        return new ReportData(dir, summary, config, List.copyOf(epochs), labels, predictions, saved);
    }

    private static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static List<Epoch> readMetrics(Path file) {
        List<Epoch> epochs = new ArrayList<>();
        ObjectMapper mapper = new ObjectMapper();
        List<String> lines = readText(file).lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode n = mapper.readTree(line);
                epochs.add(new Epoch(required(n, "model").asText(), required(n, "seed").asLong(),
                        required(n, "epoch").asInt(), required(n, "train_loss").asDouble(),
                        required(n, "val_accuracy").asDouble(), n.path("seconds").asDouble()));
            } catch (IOException | IllegalArgumentException e) {
                throw new DistillException(file + ":" + (i + 1) + ": not a metrics line ("
                        + e.getMessage().lines().findFirst().orElse("") + ")", e);
            }
        }
        return epochs;
    }

    private static JsonNode required(JsonNode n, String key) {
        JsonNode v = n == null ? null : n.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("no \"" + key + "\"");
        }
        return v;
    }

    /** The run's first teacher, against which everything is compared. */
    public RunSummary.ModelEntry teacher() {
        return summary.models().stream().filter(m -> m.role().equals("teacher")).findFirst().orElse(null);
    }

    /**
     * The student a user would ship from this run: the distilled student with the best mean test
     * accuracy (null if there is none).
     */
    public RunSummary.ModelEntry shippedStudent() {
        RunSummary.ModelEntry best = null;
        for (RunSummary.ModelEntry m : summary.models()) {
            if (m.role().equals("student") && (best == null || m.accuracy() > best.accuracy())) {
                best = m;
            }
        }
        return best;
    }
}
