package dev.distill.core.train;

/**
 * One epoch of one training run: mean training loss over the epoch's batches (the loss the model is
 * trained on, distillation or cross-entropy), validation accuracy, time and throughput.
 */
public record EpochMetrics(int epoch, double trainLoss, double validationAccuracy, double seconds,
        double samplesPerSecond) {
}
