package dev.distill.runner.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options every command that reads a config shares. */
final class ConfigOptions {

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override a config value, e.g. --set distillation.temperature=2 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    /** The config at {@code file} with this command line's overrides, checked as a whole. */
    dev.distill.runner.config.ExperimentConfig load(Path file) {
        return dev.distill.runner.config.ConfigLoader.load(file.toAbsolutePath().normalize(), overrides);
    }
}
