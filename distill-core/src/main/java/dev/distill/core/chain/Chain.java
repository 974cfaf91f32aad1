package dev.distill.core.chain;

import java.util.ArrayList;
import java.util.List;

/** teacher → assistant(s) → student by model name; each link trained with {@code distillation}. */
public record Chain(List<String> models, DistillationSettings distillation) {

    /** Generations a born-again chain may have: each is a full training of the teacher's architecture. */
    public static final int MAX_GENERATIONS = 10;

    public Chain {
        models = List.copyOf(models);
    }

    /**
     * A born-again chain (Furlanello et al. 2018, "Born-Again Neural Networks"): {@code model} →
     * {@code generation(model, 1)} → ... → {@code generation(model, generations)}, each generation of
     * the first model's architecture and training, distilled from the one before.
     */
    public static Chain bornAgain(String model, int generations, DistillationSettings settings) {
        if (generations < 1 || generations > MAX_GENERATIONS) {
            throw new IllegalArgumentException("generations must be between 1 and " + MAX_GENERATIONS + ", found "
                    + generations);
        }
        List<String> names = new ArrayList<>(List.of(model));
        for (int g = 1; g <= generations; g++) {
            names.add(generation(model, g));
        }
        return new Chain(names, settings);
    }

    /** The name of a born-again chain's {@code g}-th generation of {@code model}. */
    public static String generation(String model, int g) {
        return model + "_gen" + g;
    }
}
