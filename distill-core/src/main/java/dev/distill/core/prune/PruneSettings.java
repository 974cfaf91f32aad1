package dev.distill.core.prune;

import dev.distill.core.SettingException;
import java.util.Map;
import java.util.Objects;

/**
 * One pruning stage as configured. Immutable; checked when built, with messages that name the
 * config key at fault.
 *
 * @param sparsity        target fraction of the prunable weights to prune (magnitude), or of each
 *                        layer's units to remove (structured), in [0, 1)
 * @param layerSparsity   targets for named layers ({@code dense_0}) instead of {@code sparsity}
 * @param fineTuneEpochs  epochs of fine-tuning after pruning (per round when iterative; in all when gradual)
 * @param rounds          prune → fine-tune rounds (iterative)
 * @param maxAccuracyDrop stop iterating when validation accuracy falls more than this below the
 *                        unpruned model's (a fraction: 0.01 is one point); null for no limit
 * @param startEpoch      gradual: the epoch of fine-tuning at whose start pruning begins (0 = at once)
 * @param endEpoch        gradual: the epoch at whose end the final sparsity is reached
 * @param updateEvery     gradual: Δt, optimizer steps between mask updates
 */
public record PruneSettings(Method method, MagnitudePruner.Scope scope, double sparsity,
        Map<String, Double> layerSparsity, boolean includeBiases, boolean includeOutput, Schedule schedule,
        int fineTuneEpochs, int rounds, Double maxAccuracyDrop, double initialSparsity, int startEpoch, int endEpoch,
        int updateEvery, StructuredPruner.Norm norm) {

    public enum Method { MAGNITUDE, STRUCTURED }

    public enum Schedule { ONE_SHOT, GRADUAL, ITERATIVE }

    public PruneSettings {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(norm, "norm");
        layerSparsity = Map.copyOf(layerSparsity);
        checkSparsity("sparsity", sparsity);
        layerSparsity.forEach((layer, s) -> checkSparsity("layers." + layer, s));
        if (fineTuneEpochs < 0) {
            throw new SettingException("fine_tune_epochs", "fine_tune_epochs must be 0 or more, got " + fineTuneEpochs);
        }
        if (rounds < 1) {
            throw new SettingException("rounds", "rounds must be a positive integer, got " + rounds);
        }
        if (maxAccuracyDrop != null && !(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 1)) {
            throw new SettingException("max_accuracy_drop", "max_accuracy_drop must be in [0, 1] (0.01 is one point),"
                    + " got " + maxAccuracyDrop);
        }
        if (schedule == Schedule.GRADUAL) {
            new PruningSchedule(initialSparsity, sparsity, startEpoch, endEpoch, updateEvery);
            if (endEpoch > fineTuneEpochs) {
                throw new SettingException("end_epoch", "end_epoch " + endEpoch + " is after the last fine-tuning epoch"
                        + " (fine_tune_epochs: " + fineTuneEpochs + ")");
            }
        }
        if (method == Method.STRUCTURED && scope == MagnitudePruner.Scope.GLOBAL) {
            throw new SettingException("scope", "structured pruning removes a fraction of each layer's units: use"
                    + " scope: layer");
        }
        if (method == Method.STRUCTURED && schedule != Schedule.ONE_SHOT) {
            throw new SettingException("schedule", "structured pruning is one_shot (prune, rebuild smaller, fine-tune)");
        }
    }

    /** Per-round target of iterative pruning: the cubic of Zhu &amp; Gupta over the rounds, from 0. */
    public double sparsityAfterRound(double target, int round) {
        return new PruningSchedule(0, target, 0, rounds, 1).sparsityAt(round);
    }

    private static void checkSparsity(String key, double s) {
        if (!(s >= 0 && s < 1)) {
            throw new SettingException(key, key + " must be in [0, 1) (0.8 prunes 80%), got " + s);
        }
    }
}
