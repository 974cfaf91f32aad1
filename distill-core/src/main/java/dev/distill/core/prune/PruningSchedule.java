package dev.distill.core.prune;

/**
 * Gradual pruning schedule of Zhu &amp; Gupta (2017, "To prune, or not to prune"): from step
 * {@code t0} the sparsity rises from {@code s_i} to {@code s_f} over {@code n} updates {@code Δt}
 * steps apart,
 *
 * <pre>
 *   s_t = s_f + (s_i − s_f) · (1 − (t − t0) / (n·Δt))³      for t0 ≤ t ≤ t0 + n·Δt
 * </pre>
 *
 * fast at first, while many weights are redundant, and slowly near the end. The masks are updated
 * every {@code Δt} steps; {@code endStep = t0 + n·Δt}.
 */
public record PruningSchedule(double initialSparsity, double finalSparsity, long startStep, long endStep,
        long frequency) {

    public PruningSchedule {
        if (!(initialSparsity >= 0 && initialSparsity < 1)) {
            throw new IllegalArgumentException("initial sparsity must be in [0, 1), got " + initialSparsity);
        }
        if (!(finalSparsity >= initialSparsity && finalSparsity < 1)) {
            throw new IllegalArgumentException("final sparsity must be in [initial sparsity " + initialSparsity
                    + ", 1), got " + finalSparsity);
        }
        if (startStep < 0) {
            throw new IllegalArgumentException("start step must be non-negative, got " + startStep);
        }
        if (endStep <= startStep) {
            throw new IllegalArgumentException("the schedule must end after it starts, got start " + startStep
                    + " and end " + endStep);
        }
        if (frequency < 1) {
            throw new IllegalArgumentException("frequency must be at least one step, got " + frequency);
        }
    }

    /** The target sparsity at step {@code t}: {@code s_i} up to the start, {@code s_f} from the end on. */
    public double sparsityAt(long t) {
        if (t <= startStep) {
            return initialSparsity;
        }
        if (t >= endStep) {
            return finalSparsity;
        }
        double remaining = 1.0 - (double) (t - startStep) / (endStep - startStep);
        return finalSparsity + (initialSparsity - finalSparsity) * remaining * remaining * remaining;
    }

    /** Whether the masks are recomputed at step {@code t}: every Δt steps from the start, and at the end. */
    public boolean updatesAt(long t) {
        return t >= startStep && t <= endStep && ((t - startStep) % frequency == 0 || t == endStep);
    }
}
