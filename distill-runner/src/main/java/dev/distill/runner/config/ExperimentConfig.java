package dev.distill.runner.config;

import dev.distill.core.chain.Chain;

import dev.distill.core.chain.DistillationSettings;

import dev.distill.core.train.CheckpointPolicy;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One experiment, as loaded from one YAML file and checked as a whole (every model's shapes, every
 * chain's names) before anything trains. Immutable.
 *
 * @param file         the config file it came from
 * @param effectiveYaml the YAML after command-line overrides, written into the run directory
 * @param seeds        seeds of the student runs (distilled students and baselines); the teacher and
 *                     assistants are trained once, with {@code seed}
 * @param checkpoints  when training runs write checkpoints and how many they keep (never changes results)
 * @param stages       what happens to the chains' final students after distillation (pruning), in order
 * @param sweep        settings tried for some links, chosen on validation; null when the config has no sweep
 */
public record ExperimentConfig(Path file, String name, long seed, DataConfig data, Map<String, ModelConfig> models,
        DistillationSettings distillation, List<Chain> chains, boolean baseline, List<Long> seeds,
        String effectiveYaml, CheckpointPolicy checkpoints, List<StageConfig> stages, SweepConfig sweep) {

    public ExperimentConfig {
        models = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(models));
        chains = List.copyOf(chains);
        seeds = List.copyOf(seeds);
        stages = List.copyOf(stages);
    }
}
