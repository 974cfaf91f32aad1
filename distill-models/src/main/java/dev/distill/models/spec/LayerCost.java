package dev.distill.models.spec;

/**
 * What one layer costs: trainable and stored parameters (DL4J stores batch-norm running mean and
 * variance as parameters, so they are counted), and multiply-adds for one example.
 */
public record LayerCost(int index, String type, String outputShape, long params, long multiplyAdds) {
}
