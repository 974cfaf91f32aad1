package dev.distill.core.chain;

import dev.distill.core.train.TrainingResult;
import dev.distill.models.network.Network;
import java.util.List;

/** Every node of a trained {@link DistillationChain}, in the plan's order. */
public record ChainResult(List<Trained> models) {

    /**
     * One node's network, trained in place (or given), and its training's history and best epoch
     * ({@code training} is null for a given network, which is never trained).
     */
    public record Trained(Plan.Node node, Network network, TrainingResult training) {
    }

    public ChainResult {
        models = List.copyOf(models);
    }

    /** The node of this id ({@code teacher}, {@code student-from-teacher}, {@code student-baseline}, ...). */
    public Trained model(String id) {
        return models.stream().filter(m -> m.node().id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no model '" + id + "' in the chain; its models: "
                        + String.join(", ", models.stream().map(m -> m.node().id()).toList())));
    }
}
