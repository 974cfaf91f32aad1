package dev.distill.models.spec;

/**
 * A model spec that cannot be built: names the layer (0-based index) so that the config loader can
 * point at the YAML line that declared it.
 */
public final class SpecException extends IllegalArgumentException {
    private final int layerIndex;

    public SpecException(int layerIndex, String message) {
        super(message);
        this.layerIndex = layerIndex;
    }

    /** Index of the offending layer in {@link ModelSpec#layers()}, or -1 for the model as a whole. */
    public int layerIndex() {
        return layerIndex;
    }
}
