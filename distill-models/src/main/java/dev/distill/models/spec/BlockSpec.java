package dev.distill.models.spec;

/**
 * What one block of a {@link GraphSpec} computes. A block is either a plain layer (any
 * {@link LayerSpec}) or one of the composite blocks that make a network cheap by construction;
 * each composite block's Javadoc gives the layers it expands to, which is also how its parameters
 * and multiply-adds are counted.
 */
public sealed interface BlockSpec {

    /** Name of this block type in configs. */
    String type();

    /** A single layer, as in a sequential model. */
    record Layer(LayerSpec layer) implements BlockSpec {
        public String type() {
            return layer.type();
        }
    }

    /**
     * MobileNet's depthwise-separable convolution: depthwise k×k (one filter per channel, no bias),
     * batch norm, activation, pointwise 1×1 to {@code filters} channels (no bias), batch norm, activation.
     */
    record Separable(int filters, int kernel, int stride, Activation activation) implements BlockSpec {
        public Separable {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernel);
            Checks.positive("stride", stride);
        }

        public String type() {
            return "separable";
        }
    }

    /**
     * A 1×1 convolution that cuts the channels to {@code reduce} before the expensive k×k one:
     * 1×1 to {@code reduce} (no bias), batch norm, activation, k×k to {@code filters} with
     * {@code stride} (no bias), batch norm, activation.
     */
    record Bottleneck(int filters, int reduce, int kernel, int stride, Activation activation) implements BlockSpec {
        public Bottleneck {
            Checks.positive("filters", filters);
            Checks.positive("reduce", reduce);
            Checks.positive("kernel", kernel);
            Checks.positive("stride", stride);
        }

        public String type() {
            return "bottleneck";
        }
    }

    /**
     * ResNet's basic block: k×k conv with {@code stride}, batch norm, activation, k×k conv, batch
     * norm, plus the shortcut (the input itself, or a 1×1 conv with {@code stride} and batch norm
     * when the channels or the size change), then the activation. Convolutions have no bias.
     */
    record Residual(int filters, int kernel, int stride, Activation activation) implements BlockSpec {
        public Residual {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernel);
            Checks.positive("stride", stride);
        }

        public String type() {
            return "residual";
        }
    }

    /**
     * DenseNet's dense block: {@code layers} times batch norm, activation and a k×k conv to
     * {@code growth} channels (no bias), each layer reading the concatenation of the block's input
     * and every earlier layer's output; the block's output is the input and all {@code layers}
     * outputs concatenated (input channels + layers × growth).
     */
    record DenseBlock(int layers, int growth, int kernel, Activation activation) implements BlockSpec {
        public DenseBlock {
            Checks.positive("layers", layers);
            Checks.positive("growth", growth);
            Checks.positive("kernel", kernel);
        }

        public String type() {
            return "dense_block";
        }
    }

    /**
     * ShuffleNet's group convolution: the input channels split into {@code groups} equal groups,
     * each convolved (k×k, with bias and activation) to {@code filters / groups} channels by its own
     * filters, the results concatenated; with {@code shuffle}, the channels are then reordered so
     * that output channel {@code i·groups + j} is channel {@code i} of group {@code j} (the
     * reshape-transpose-flatten of the ShuffleNet paper), letting the next group conv mix groups.
     */
    record GroupConv(int filters, int kernel, int groups, int stride, boolean shuffle, Activation activation)
            implements BlockSpec {
        public GroupConv {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernel);
            Checks.positive("groups", groups);
            Checks.positive("stride", stride);
            if (filters % groups != 0) {
                throw new IllegalArgumentException("filters (" + filters + ") must be a multiple of groups (" + groups
                        + ")");
            }
        }

        public String type() {
            return "group_conv";
        }
    }

    /** Element-wise sum of its inputs, which must all have the same shape (residual connections). */
    record Add() implements BlockSpec {
        public String type() {
            return "add";
        }
    }

    /** Concatenation of its inputs along the channels (DenseNet-style reuse); sizes must match. */
    record Concat() implements BlockSpec {
        public String type() {
            return "concat";
        }
    }
}
