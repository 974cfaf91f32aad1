package dev.distill.runner.config;

import java.util.List;

/** teacher → assistant(s) → student by model name; each link trained with {@code distillation}. */
public record ChainConfig(List<String> models, DistillationSettings distillation) {

    public ChainConfig {
        models = List.copyOf(models);
    }
}
