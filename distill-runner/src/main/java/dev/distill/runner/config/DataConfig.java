package dev.distill.runner.config;

import dev.distill.models.spec.InputShape;

/**
 * Where the examples come from and how they are cut: the validation split is taken from the
 * training set with the experiment's seed; sources without a test file give up a test split too,
 * always with seed 0, so that every run of a config is scored on the same test examples. {@code normalize}
 * is fitted on the training split (after the validation split is taken from it) and applied to all three.
 */
public record DataConfig(DataSource source, InputShape input, int classes, int batchSize, double validationSplit,
        double testSplit, dev.distill.runner.data.FeatureNormalizer.Method normalize) {
}
