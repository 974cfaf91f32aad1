package dev.distill.core.train;

import dev.distill.models.network.Network;

/** Where the trainer hands its checkpoints (see {@link dev.distill.core.io.CheckpointStore}). */
@FunctionalInterface
public interface CheckpointSink {

    /** Keeps {@code net} (parameters and optimizer state) with {@code state}, durably, before returning. */
    void save(Network net, TrainingState state);
}
