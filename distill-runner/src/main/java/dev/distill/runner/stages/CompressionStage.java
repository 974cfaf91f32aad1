package dev.distill.runner.stages;

import dev.distill.core.chain.Plan;
import dev.distill.runner.config.StageConfig;
import dev.distill.runner.report.RunSummary.ModelEntry;
import java.util.List;

/**
 * A stage that compresses one chain's student ({@code prune}, {@code low_rank}, {@code quantize}): it
 * works from the run's {@link StageContext}, adds its model's summary entry, and gives the model the next
 * stage starts from.
 *
 * @param <S> the stage's config
 */
sealed interface CompressionStage<S extends StageConfig> permits PruneStage, LowRankStage, QuantizeStage {

    StageContext context();

    /**
     * Compresses {@code input} (the student {@code node}'s model as the stages before left it), adds the
     * result's entry to {@code entries}, and returns what the next stage starts from.
     */
    StageRunner.Current run(S stage, Plan.Node node, StageRunner.Current input, List<ModelEntry> entries);
}
