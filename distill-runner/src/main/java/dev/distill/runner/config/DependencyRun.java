package dev.distill.runner.config;

import java.nio.file.Path;

/**
 * A model that another config trains, declared {@code {from: other.yaml, model: teacher}}: distill
 * uses the model file of a finished run of that config in {@code runDirectory}, and makes that run
 * first (or continues it) when it is not there. Only the declaration is checked here; whether the run
 * directory holds a usable run is checked before anything trains (see {@code pipeline.Dependencies}).
 *
 * @param config       the other config, loaded and checked as a whole
 * @param model        the model's id in the other config's plan: its file is {@code models/<model>.zip}
 *                     ({@code teacher}, {@code assistant-from-teacher}, as {@code validate} of that config lists them)
 * @param runDirectory the run of that config: {@code run:} if given, else {@code runs/<its name>}
 * @param location     file and line of the declaration, for errors found once the plan is known
 * @param keyPath      the declaration's key path ({@code models.teacher})
 */
public record DependencyRun(ExperimentConfig config, String model, Path runDirectory, String location,
        String keyPath) {

    /** The model file the finished run holds. */
    public Path modelFile() {
        return runDirectory.resolve("models").resolve(model + ".zip");
    }

    /** A one-line error about this declaration, located at it. */
    public ConfigException error(String problem) {
        return new ConfigException(location, keyPath, problem);
    }
}
