package dev.distill.models.spec;

import java.util.List;

/** Per-layer costs of a model for one input shape, and their totals. */
public record ModelCost(List<LayerCost> layers) {

    public ModelCost {
        layers = List.copyOf(layers);
    }

    public long params() {
        return layers.stream().mapToLong(LayerCost::params).sum();
    }

    /** Multiply-adds for one example's forward pass (what the report calls FLOPs per sample). */
    public long multiplyAdds() {
        return layers.stream().mapToLong(LayerCost::multiplyAdds).sum();
    }
}
