package dev.distill.models.network;

import org.nd4j.linalg.dataset.DataSet;

/**
 * A network's optimizer steps as a {@link ComputeThreads.Plan} computes them: whole batches through DL4J's
 * {@code fit}, or batches split in parts ({@link SplitBatchSteps}). One home for that choice, for the Trainer and
 * for bench's figures of the engine.
 */
public interface TrainingSteps extends AutoCloseable {

    /** One optimizer step on {@code batch}; returns its loss. */
    double fit(DataSet batch);

    /** Releases what the steps hold (a split's part threads); nothing for whole batches. */
    @Override
    void close();

    /**
     * The steps {@code plan} asks for on {@code net}.
     *
     * @throws IllegalArgumentException if the plan splits batches and {@code net} does not
     *                                  {@link SplitBatchSteps#supports} it
     */
    static TrainingSteps of(Network net, ComputeThreads.Plan plan) {
        if (plan.parts() > 1) {
            return SplitBatchSteps.of(net, plan.parts());
        }
        return new TrainingSteps() {
            @Override
            public double fit(DataSet batch) {
                net.fit(batch);
                return net.score();
            }

            @Override
            public void close() {
            }
        };
    }
}
