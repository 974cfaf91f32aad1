package dev.distill.runtime;

/**
 * One step of a packed model, in the runtime's own terms. Values flow between steps channels-first,
 * (c, h, w) flattened in that order as DL4J flattens a feature map into a dense layer; a flat vector is
 * (features, 1, 1). Weights keep the layout DL4J trains them in, so quantized codes are stored as
 * they were made:
 * <ul>
 * <li>{@link Kind#DENSE}: weights [in, out], bias [out];
 * <li>{@link Kind#CONV2D}: weights [out, in, kh, kw], bias [out];
 * <li>{@link Kind#DEPTHWISE_CONV2D}: weights [kh, kw, in, multiplier], bias [in × multiplier], output
 *     channel c × multiplier + m;
 * <li>{@link Kind#SCALE_SHIFT}: x × scale[c] + shift[c] (a batch norm that could not be folded);
 * <li>pooling, global pooling and a lone activation have no tensors.
 * </ul>
 * Dropout is not a step (it does nothing at inference), nor is flattening. An op is immutable.
 */
public final class Op {

    /** The kinds of step. */
    public enum Kind { DENSE, CONV2D, DEPTHWISE_CONV2D, MAX_POOL, AVG_POOL, GLOBAL_AVG_POOL, GLOBAL_MAX_POOL,
        SCALE_SHIFT, ACTIVATION }

    final Kind kind;
    final ActivationFunction activation;
    final float alpha;
    final Window window;
    final QuantizedTensor weights;
    final QuantizedTensor bias;
    final float[] scale;
    final float[] shift;
    /** The calibrated range of this op's input on the int8 path, or null. */
    final Int8Range inputRange;

    private Op(Kind kind, ActivationFunction activation, float alpha, Window window, QuantizedTensor weights,
            QuantizedTensor bias, float[] scale, float[] shift, Int8Range inputRange) {
        this.kind = kind;
        this.activation = activation == null ? ActivationFunction.IDENTITY : activation;
        this.alpha = alpha;
        this.window = window;
        this.weights = weights;
        this.bias = bias;
        this.scale = scale;
        this.shift = shift;
        this.inputRange = inputRange;
    }

    /** A dense layer; {@code bias} may be null (the first half of a low-rank pair). */
    public static Op dense(QuantizedTensor weights, QuantizedTensor bias, ActivationFunction activation, float alpha) {
        return new Op(Kind.DENSE, activation, alpha, null, weights, bias, null, null, null);
    }

    public static Op conv2d(QuantizedTensor weights, QuantizedTensor bias, Window window,
            ActivationFunction activation, float alpha) {
        return new Op(Kind.CONV2D, activation, alpha, window, weights, bias, null, null, null);
    }

    public static Op depthwiseConv2d(QuantizedTensor weights, QuantizedTensor bias, Window window,
            ActivationFunction activation, float alpha) {
        return new Op(Kind.DEPTHWISE_CONV2D, activation, alpha, window, weights, bias, null, null, null);
    }

    public static Op pool(boolean max, Window window) {
        return new Op(max ? Kind.MAX_POOL : Kind.AVG_POOL, null, 0, window, null, null, null, null, null);
    }

    public static Op globalPool(boolean max) {
        return new Op(max ? Kind.GLOBAL_MAX_POOL : Kind.GLOBAL_AVG_POOL, null, 0, null, null, null, null, null, null);
    }

    public static Op scaleShift(float[] scale, float[] shift) {
        return new Op(Kind.SCALE_SHIFT, null, 0, null, null, null, scale.clone(), shift.clone(), null);
    }

    public static Op activation(ActivationFunction activation, float alpha) {
        return new Op(Kind.ACTIVATION, activation, alpha, null, null, null, null, null, null);
    }

    /** This op with the calibrated range of its input (the int8 path runs dense and conv ops that have one). */
    public Op withInputRange(Int8Range range) {
        return new Op(kind, activation, alpha, window, weights, bias, scale, shift, range);
    }

    /** This op with another activation (an activation layer merged into the layer before it). */
    public Op withActivation(ActivationFunction newActivation, float newAlpha) {
        return new Op(kind, newActivation, newAlpha, window, weights, bias, scale, shift, inputRange);
    }

    /** This dense or conv op with its weights and bias replaced (a batch norm folded in). */
    Op withTensors(QuantizedTensor newWeights, QuantizedTensor newBias) {
        return new Op(kind, activation, alpha, window, newWeights, newBias, scale, shift, inputRange);
    }

    public Kind kind() {
        return kind;
    }

    public ActivationFunction activationFunction() {
        return activation;
    }

    public QuantizedTensor weights() {
        return weights;
    }

    public QuantizedTensor bias() {
        return bias;
    }

    public Int8Range inputRange() {
        return inputRange;
    }

    /** Leaky ReLU's slope or ELU's α (0 for the other activations). */
    public float alpha() {
        return alpha;
    }

    /** The window of a convolution or pooling op, else null. */
    public Window window() {
        return window;
    }

    /** A scale-shift op's per-channel factors (a copy), else null. */
    public float[] scale() {
        return scale == null ? null : scale.clone();
    }

    /** A scale-shift op's per-channel offsets (a copy), else null. */
    public float[] shift() {
        return shift == null ? null : shift.clone();
    }

    /** Whether the op has weights and a bias (so a per-output-channel affine map can fold into it). */
    boolean weighted() {
        return kind == Kind.DENSE || kind == Kind.CONV2D || kind == Kind.DEPTHWISE_CONV2D;
    }

    @Override
    public String toString() {
        String name = kind.name().toLowerCase(java.util.Locale.ROOT);
        return name + (window != null ? " " + window : "") + (activation != ActivationFunction.IDENTITY
                ? " " + activation.name().toLowerCase(java.util.Locale.ROOT) : "");
    }
}
