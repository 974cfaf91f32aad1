package dev.distill.core.train;

import java.util.List;

/** What a training run produced besides the network: its history and the epoch that was kept. */
public record TrainingResult(List<EpochMetrics> history, int bestEpoch, double bestValidationAccuracy,
        double seconds) {

    public TrainingResult {
        history = List.copyOf(history);
    }

    /** Mean wall-clock seconds per epoch (training and validation). */
    public double secondsPerEpoch() {
        return history.isEmpty() ? 0 : seconds / history.size();
    }
}
