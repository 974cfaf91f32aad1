package dev.distill.core.train;

import dev.distill.models.network.Network;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where a training run stands, besides the network (parameters, optimizer state, iteration and
 * epoch counters, which the network itself carries): what a checkpoint must hold for the run to
 * continue bit for bit.
 *
 * <p>The shuffle order is not stored: it is a function of the seed and the epoch, replayed on resume.
 *
 * @param examples        training examples the run was started with (a resume on other data is refused)
 * @param completedEpochs epochs finished
 * @param nextExample     0 at an epoch boundary; otherwise examples of epoch {@code completedEpochs + 1}
 *                        already trained on, in its shuffled order
 * @param lossSum         the epoch in progress's summed batch losses so far (0 at a boundary)
 * @param epochSeconds    seconds spent on the epoch in progress so far
 * @param history         metrics of the finished epochs
 * @param bestParams      parameters of the best epoch so far (null before the first epoch ends)
 * @param seconds         seconds of training so far, over all sessions
 * @param rngRoot         ND4J's random generator (dropout), {@code rootState()}
 * @param rngNode         ND4J's random generator, {@code nodeState()}
 * @param companions      the networks trained beside this one, by name (a joint hint's regressor,
 *                        {@link Trainer#withCompanion}), each with its optimizer state and counters: live while
 *                        a checkpoint is handed to its sink, restored copies when read back; empty for most
 */
public record TrainingState(int examples, int completedEpochs, int nextExample, double lossSum, double epochSeconds,
        List<EpochMetrics> history, int bestEpoch, double bestAccuracy, INDArray bestParams, double seconds,
        long rngRoot, long rngNode, Map<String, Network> companions) {

    /** A training with no network beside it. */
    public TrainingState(int examples, int completedEpochs, int nextExample, double lossSum, double epochSeconds,
            List<EpochMetrics> history, int bestEpoch, double bestAccuracy, INDArray bestParams, double seconds,
            long rngRoot, long rngNode) {
        this(examples, completedEpochs, nextExample, lossSum, epochSeconds, history, bestEpoch, bestAccuracy,
                bestParams, seconds, rngRoot, rngNode, Map.of());
    }

    public TrainingState {
        history = List.copyOf(history);
        // sorted: a checkpoint lists its companions in one order whatever the caller's map
        companions = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(companions));
        for (String name : companions.keySet()) {
            // a checkpoint stores each as a file of that name and lists them with commas
            if (!name.matches("[a-z0-9][a-z0-9-]*")) {
                throw new IllegalArgumentException("a companion's name is lower-case letters, digits and hyphens, "
                        + "not " + name);
            }
        }
        if (history.size() != completedEpochs) {
            throw new IllegalArgumentException(completedEpochs + " epochs done but " + history.size()
                    + " in the history");
        }
        if (nextExample < 0 || nextExample >= Math.max(1, examples)) {
            throw new IllegalArgumentException("position " + nextExample + " outside an epoch of " + examples);
        }
    }

    public boolean atEpochBoundary() {
        return nextExample == 0;
    }

    /** Refuses to continue this state on a training set of another size: the shuffle replay would not match. */
    public void requireExamples(int examples) {
        if (this.examples != examples) {
            throw new IllegalArgumentException("the checkpoint was made on " + this.examples
                    + " training examples, not " + examples);
        }
    }
}
