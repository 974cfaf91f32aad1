package dev.distill.runner.config;

import dev.distill.core.train.TrainingSpec;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Path;

/** A model of the experiment, by name: declared layer by layer, or loaded (frozen) from a DL4J file. */
public sealed interface ModelConfig {

    String name();

    /** Declared layer by layer, trained with {@code training}; {@code cost} was computed for the data's input. */
    record Declared(String name, ModelSpec spec, TrainingSpec training, ModelCost cost) implements ModelConfig {
    }

    /** A pretrained DL4J model file (ModelSerializer zip); never trained further. */
    record Pretrained(String name, Path file) implements ModelConfig {
    }
}
