package dev.distill.runner.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.DistillException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-set predictions kept in the run directory so that the report can draw confusion matrices
 * without loading the data again: {@code predictions/test-labels.json} once per run and
 * {@code predictions/<id>.json} per model (the model in its {@code file}: the first seed's).
 */
public final class Predictions {

    public static final String DIRECTORY = "predictions";
    public static final String LABELS = "test-labels";

    private Predictions() {
    }

    /** The relative path of a model's (or, with {@link #LABELS}, the labels') file in a run directory. */
    public static String file(String id) {
        return DIRECTORY + "/" + id + ".json";
    }

    public static String labelsJson(int[] labels, int classes) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("classes", classes);
        doc.put("labels", labels);
        return Json.line(doc) + "\n";
    }

    public static String predictionsJson(String id, Long seed, int[] predicted) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", id);
        doc.put("seed", seed);
        doc.put("predicted", predicted);
        return Json.line(doc) + "\n";
    }

    /** The int array under {@code key} of a predictions or labels file; null if the file does not exist. */
    static int[] read(Path file, String key, int expectedLength, int classes) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new DistillException(file + ": not valid JSON (" + firstLine(e.getMessage()) + ")", e);
        }
        JsonNode values = doc == null ? null : doc.get(key);
        if (values == null || !values.isArray()) {
            throw new DistillException(file + ": has no \"" + key + "\" array");
        }
        if (expectedLength >= 0 && values.size() != expectedLength) {
            throw new DistillException(file + ": has " + values.size() + " " + key + " but the test set has "
                    + expectedLength + " examples");
        }
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            if (!values.get(i).canConvertToInt() || values.get(i).intValue() < 0 || values.get(i).intValue() >= classes) {
                throw new DistillException(file + ": " + key + "[" + i + "] is not a class index in 0.." + (classes - 1));
            }
            out[i] = values.get(i).intValue();
        }
        return out;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
