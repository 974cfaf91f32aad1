package dev.distill.models.spec;

/**
 * One layer of a sequential model, as declared in a config. Immutable; each record checks its own
 * values, and {@link ModelSpec} checks that the layers fit together (shapes).
 *
 * <p>Multiply-adds and parameters are counted from these specs alone (see {@link ModelCost}), so
 * the report does not depend on how DL4J stores a layer.
 */
public sealed interface LayerSpec {

    /** Name of this layer type in configs ({@code dense}, {@code conv2d}, ...). */
    String type();

    enum Padding { SAME, VALID }

    enum PoolType { MAX, AVG }

    /**
     * Fully connected layer. {@code bias} is false only for the first half of a low-rank factorized
     * layer (a linear projection whose bias would be redundant with the second half's).
     */
    record Dense(int units, Activation activation, boolean bias) implements LayerSpec {
        public Dense {
            Checks.positive("units", units);
        }

        public Dense(int units, Activation activation) {
            this(units, activation, true);
        }

        public String type() {
            return "dense";
        }
    }

    /** 2-D convolution with square kernels; without {@code bias} only as the first half of a low-rank pair. */
    record Conv2d(int filters, int kernel, int stride, Padding padding, Activation activation, boolean bias)
            implements LayerSpec {
        public Conv2d {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernel);
            Checks.positive("stride", stride);
        }

        public Conv2d(int filters, int kernel, int stride, Padding padding, Activation activation) {
            this(filters, kernel, stride, padding, activation, true);
        }

        public String type() {
            return "conv2d";
        }
    }

    /**
     * 2-D convolution with a {@code kernelHeight × kernelWidth} kernel and separate strides: the two
     * halves of a spatially separable low-rank pair (k×1, then 1×k). Built by the low-rank stage, not
     * declared in configs; its type is {@code conv2d} like any convolution's.
     */
    record RectConv2d(int filters, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            Padding padding, Activation activation, boolean bias) implements LayerSpec {
        public RectConv2d {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernelHeight);
            Checks.positive("kernel", kernelWidth);
            Checks.positive("stride", strideHeight);
            Checks.positive("stride", strideWidth);
        }

        public String type() {
            return "conv2d";
        }
    }

    /** Depthwise convolution: each input channel convolved with its own {@code multiplier} filters. */
    record DepthwiseConv2d(int kernel, int multiplier, int stride, Padding padding, Activation activation)
            implements LayerSpec {
        public DepthwiseConv2d {
            Checks.positive("kernel", kernel);
            Checks.positive("multiplier", multiplier);
            Checks.positive("stride", stride);
        }

        public String type() {
            return "depthwise_conv2d";
        }
    }

    /** Depthwise-separable convolution: depthwise k×k, then pointwise 1×1 to {@code filters} channels. */
    record SeparableConv2d(int filters, int kernel, int multiplier, int stride, Padding padding, Activation activation)
            implements LayerSpec {
        public SeparableConv2d {
            Checks.positive("filters", filters);
            Checks.positive("kernel", kernel);
            Checks.positive("multiplier", multiplier);
            Checks.positive("stride", stride);
        }

        public String type() {
            return "separable_conv2d";
        }
    }

    /** Max or average pooling over square windows. */
    record Pool(PoolType pool, int size, int stride) implements LayerSpec {
        public Pool {
            Checks.positive("size", size);
            Checks.positive("stride", stride);
        }

        public String type() {
            return pool == PoolType.MAX ? "max_pool" : "avg_pool";
        }
    }

    /** Pooling over the whole feature map, one value per channel. */
    record GlobalPool(PoolType pool) implements LayerSpec {
        public String type() {
            return "global_pool";
        }
    }

    /** Batch normalisation over the features (dense) or channels (conv). */
    record BatchNorm() implements LayerSpec {
        public String type() {
            return "batch_norm";
        }
    }

    /**
     * An activation on its own, for blocks that normalise before the nonlinearity (conv with identity
     * activation, batch norm, then ReLU, as MobileNet does): batch norm then folds into the conv at inference.
     */
    record Activate(Activation activation) implements LayerSpec {
        public String type() {
            return "activation";
        }
    }

    /** Dropout with probability {@code rate} of dropping a unit (not DL4J's retain probability). */
    record Dropout(double rate) implements LayerSpec {
        public Dropout {
            if (!(rate > 0 && rate < 1)) {
                throw new IllegalArgumentException("rate must be in (0, 1), got " + rate);
            }
        }

        public String type() {
            return "dropout";
        }
    }

    /** The classifier: a dense layer to {@code classes} logits followed by softmax. Always last. */
    record Output(int classes) implements LayerSpec {
        public Output {
            if (classes < 2) {
                throw new IllegalArgumentException("classes must be at least 2, got " + classes);
            }
        }

        public String type() {
            return "output";
        }
    }
}
