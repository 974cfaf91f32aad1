package dev.distill.runner.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Map;

/**
 * What {@code summary.json} holds; written last, atomically, so its presence means the run finished.
 * Field names are written in snake_case. Fields added after the first release ({@code nonzero_params},
 * {@code layers}, {@code logits_seconds}) are null when read from an older run.
 */
public record RunSummary(String name, String config, String started, String finished, Dataset dataset,
        List<Long> seeds, List<ModelEntry> models, Map<String, String> provenance,
        Map<String, Double> logitsSeconds) {

    public RunSummary {
        seeds = List.copyOf(seeds);
        models = List.copyOf(models);
        logitsSeconds = logitsSeconds == null ? Map.of() : Map.copyOf(logitsSeconds);
    }

    /** The data the models were trained and tested on. */
    public record Dataset(String name, String input, int classes, int train, int validation, int test) {
    }

    /**
     * One model. {@code testAccuracy} is the model in {@code file} (the first seed's, for students and
     * baselines); with several seeds, mean and sample standard deviation over all of them.
     * {@code nonzeroParams} is counted from the saved file's parameters; {@code layers} is the declared
     * architecture's per-layer cost (null for a loaded model).
     */
    public record ModelEntry(String id, String model, String role, String distilledFrom, Double temperature,
            Double softWeight, Double hardWeight, double testAccuracy, Double testAccuracyMean,
            Double testAccuracyStd, List<Double> testAccuracyPerSeed, long params, long fileBytes,
            Long flopsPerSample, double trainSeconds, Double secondsPerEpoch, Integer bestEpoch,
            Double validationAccuracy, String file, Long nonzeroParams, List<LayerEntry> layers) {

        /** The figure the tables rank by: the mean over seeds where there are several, else the one model's. */
        @JsonIgnore
        public double accuracy() {
            return testAccuracyMean != null ? testAccuracyMean : testAccuracy;
        }
    }

    /** One layer of a declared model: its type, output shape, parameters and multiply-adds per example. */
    public record LayerEntry(int index, String type, String outputShape, long params, long multiplyAdds) {
    }
}
