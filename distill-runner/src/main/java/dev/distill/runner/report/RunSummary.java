package dev.distill.runner.report;

import java.util.List;
import java.util.Map;

/**
 * What {@code summary.json} holds; written last, atomically, so its presence means the run finished.
 * Field names are written in snake_case.
 */
public record RunSummary(String name, String config, String started, String finished, Dataset dataset,
        List<Long> seeds, List<ModelEntry> models, Map<String, String> provenance) {

    public RunSummary {
        seeds = List.copyOf(seeds);
        models = List.copyOf(models);
    }

    /** The data the models were trained and tested on. */
    public record Dataset(String name, String input, int classes, int train, int validation, int test) {
    }

    /**
     * One model. {@code testAccuracy} is the model in {@code file} (the first seed's, for students and
     * baselines); with several seeds, mean and sample standard deviation over all of them.
     */
    public record ModelEntry(String id, String model, String role, String distilledFrom, Double temperature,
            Double softWeight, Double hardWeight, double testAccuracy, Double testAccuracyMean,
            Double testAccuracyStd, List<Double> testAccuracyPerSeed, long params, long fileBytes,
            Long flopsPerSample, double trainSeconds, Double secondsPerEpoch, Integer bestEpoch,
            Double validationAccuracy, String file) {
    }
}
