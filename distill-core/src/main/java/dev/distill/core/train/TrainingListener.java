package dev.distill.core.train;

/**
 * Side effects of training (progress bars, metric files, checkpoints) hang off the trainer's loop
 * here, so the loop itself stays short.
 */
public interface TrainingListener {

    /** Called before the first batch of an epoch (1-based). */
    default void epochStarted(int epoch, int epochs, long examples) {
    }

    /** Called after each batch with the examples done so far in this epoch and the batch loss. */
    default void batchDone(long examplesDone, double batchLoss) {
    }

    /** Called after an epoch, once validation accuracy is known. */
    default void epochDone(EpochMetrics metrics, boolean best) {
    }
}
