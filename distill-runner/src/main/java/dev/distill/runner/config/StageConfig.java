package dev.distill.runner.config;

import dev.distill.core.lowrank.LowRankSettings;
import dev.distill.core.prune.PruneSettings;
import java.util.List;

/**
 * A stage applied after distillation, from the config's {@code stages:} list, in order. Each stage
 * applies to the final student of every chain (or only to the models it names), and a later stage
 * takes the earlier stage's output for the same student.
 */
public sealed interface StageConfig {

    /** Position in the {@code stages:} list. */
    int index();

    /** Model names the stage is limited to; empty for every chain's final student. */
    List<String> models();

    /**
     * Pruning, then fine-tuning with the distillation loss from the student's own teacher
     * ({@code distillLoss}) or with the hard labels alone.
     *
     * @param learningRate fine-tuning learning rate, or null for the model's own
     */
    record Prune(int index, List<String> models, boolean distillLoss, Double learningRate, PruneSettings settings)
            implements StageConfig {
        public Prune {
            models = List.copyOf(models);
        }
    }

    /**
     * Low-rank factorization of the chosen layers, input to output, each followed by fine-tuning with
     * the distillation loss from the student's own teacher ({@code distillLoss}) or the hard labels.
     *
     * @param learningRate fine-tuning learning rate, or null for the model's own
     */
    record LowRank(int index, List<String> models, boolean distillLoss, Double learningRate, LowRankSettings settings)
            implements StageConfig {
        public LowRank {
            models = List.copyOf(models);
        }
    }
}
