package dev.distill.core.train;

/**
 * When the trainer writes a checkpoint: every {@code everyEpochs} epochs and after the last one,
 * and, within a long epoch, at the first batch boundary {@code everyMinutes} after the previous
 * checkpoint (0: only at epoch ends). {@code keep} is how many checkpoints a training run keeps.
 */
public record CheckpointPolicy(int everyEpochs, int keep, double everyMinutes) {

    /** Every epoch, the last two kept, and at least every ten minutes inside a long epoch. */
    public static final CheckpointPolicy DEFAULT = new CheckpointPolicy(1, 2, 10);

    public CheckpointPolicy {
        if (everyEpochs < 1) {
            throw new IllegalArgumentException("every_epochs must be a positive integer, got " + everyEpochs);
        }
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be a positive integer, got " + keep);
        }
        if (!(everyMinutes >= 0) || Double.isInfinite(everyMinutes)) {
            throw new IllegalArgumentException("every_minutes must be 0 (epoch ends only) or positive, got "
                    + everyMinutes);
        }
    }

    /** Whether a checkpoint is due at the end of {@code epoch} of {@code epochs}. */
    public boolean dueAtEpochEnd(int epoch, int epochs) {
        return epoch % everyEpochs == 0 || epoch == epochs;
    }

    boolean dueByTime(long nanosSinceLast) {
        return everyMinutes > 0 && nanosSinceLast >= everyMinutes * 60e9;
    }
}
