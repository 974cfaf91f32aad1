package dev.distill.core.chain;

import java.util.List;

/** teacher → assistant(s) → student by model name; each link trained with {@code distillation}. */
public record Chain(List<String> models, DistillationSettings distillation) {

    public Chain {
        models = List.copyOf(models);
    }
}
