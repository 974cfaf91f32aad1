package dev.distill.core.train;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Where the trainer hands its checkpoints (see {@link dev.distill.core.io.CheckpointStore}). */
@FunctionalInterface
public interface CheckpointSink {

    /** Keeps {@code net} (parameters and optimizer state) with {@code state}, durably, before returning. */
    void save(MultiLayerNetwork net, TrainingState state);
}
