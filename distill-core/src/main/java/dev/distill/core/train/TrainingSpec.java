package dev.distill.core.train;

import dev.distill.core.data.Augmentation;
import java.util.Objects;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * How one model is trained: epochs, batch size, optimizer and learning rate, its schedule, decoupled
 * weight decay, and the augmentation of its training examples. Immutable and validated when built.
 */
public record TrainingSpec(int epochs, int batchSize, Optimizer optimizer, double learningRate,
        LearningRateSchedule schedule, double weightDecay, Augmentation augment) {

    public TrainingSpec {
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(augment, "augment");
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be a positive integer, got " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch_size must be a positive integer, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning_rate must be positive, got " + learningRate);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight_decay must be non-negative, got " + weightDecay);
        }
    }

    /** Without augmentation. */
    public TrainingSpec(int epochs, int batchSize, Optimizer optimizer, double learningRate,
            LearningRateSchedule schedule, double weightDecay) {
        this(epochs, batchSize, optimizer, learningRate, schedule, weightDecay, Augmentation.NONE);
    }

    /** The DL4J updater with this spec's learning rate and schedule. */
    public IUpdater updater() {
        return optimizer.updater(schedule.toDl4j(learningRate, epochs));
    }
}
