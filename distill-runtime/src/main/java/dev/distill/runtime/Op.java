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
 * Dropout is not a step (it does nothing at inference), nor is flattening. A graph (residual, concat, group
 * convolution, shuffle) is ops with {@link #withInputs inputs}: value 0 is the model's input, value k + 1 op
 * k's output; an op without inputs reads the value before it. {@link Kind#ADD} sums its inputs,
 * {@link Kind#CONCAT} stacks their channels in order, {@link Kind#SUBSET} keeps channels [from, to]. An op is
 * immutable.
 */
public final class Op {

    /** The kinds of step. */
    public enum Kind { DENSE, CONV2D, DEPTHWISE_CONV2D, MAX_POOL, AVG_POOL, GLOBAL_AVG_POOL, GLOBAL_MAX_POOL,
        SCALE_SHIFT, ACTIVATION, ADD, CONCAT, SUBSET }

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
    /** The values this op reads, or null: the value before it. */
    final int[] inputs;
    /** SUBSET's channels, first and last (inclusive). */
    final int from;
    final int to;

    private Op(Kind kind, ActivationFunction activation, float alpha, Window window, QuantizedTensor weights,
            QuantizedTensor bias, float[] scale, float[] shift, Int8Range inputRange) {
        this(kind, activation, alpha, window, weights, bias, scale, shift, inputRange, null, 0, 0);
    }

    private Op(Kind kind, ActivationFunction activation, float alpha, Window window, QuantizedTensor weights,
            QuantizedTensor bias, float[] scale, float[] shift, Int8Range inputRange, int[] inputs, int from, int to) {
        this.inputs = inputs;
        this.from = from;
        this.to = to;
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

    /** The sum of two or more values of one shape. */
    public static Op add() {
        return new Op(Kind.ADD, null, 0, null, null, null, null, null, null);
    }

    /** Two or more values of one height and width, their channels stacked in input order. */
    public static Op concat() {
        return new Op(Kind.CONCAT, null, 0, null, null, null, null, null, null);
    }

    /** Channels {@code from} to {@code to} (inclusive) of a value. */
    public static Op subset(int from, int to) {
        return new Op(Kind.SUBSET, null, 0, null, null, null, null, null, null, null, from, to);
    }

    /** This op reading {@code values} (0: the model's input; k + 1: op k's output). */
    public Op withInputs(int... values) {
        return new Op(kind, activation, alpha, window, weights, bias, scale, shift, inputRange, values.clone(), from,
                to);
    }

    /** This op with the calibrated range of its input (the int8 path runs dense and conv ops that have one). */
    public Op withInputRange(Int8Range range) {
        return new Op(kind, activation, alpha, window, weights, bias, scale, shift, range, inputs, from, to);
    }

    /** This op with another activation (an activation layer merged into the layer before it). */
    public Op withActivation(ActivationFunction newActivation, float newAlpha) {
        return new Op(kind, newActivation, newAlpha, window, weights, bias, scale, shift, inputRange, inputs, from,
                to);
    }

    /** This dense or conv op with its weights and bias replaced (a batch norm folded in). */
    Op withTensors(QuantizedTensor newWeights, QuantizedTensor newBias) {
        return new Op(kind, activation, alpha, window, newWeights, newBias, scale, shift, inputRange, inputs, from,
                to);
    }

    /** The values op {@code index} reads. */
    int[] inputsAt(int index) {
        return inputs != null ? inputs.clone() : new int[] {index};
    }

    /** Whether this op reads just the value before it (op {@code index}'s default). */
    boolean readsPrevious(int index) {
        return inputs == null || inputs.length == 1 && inputs[0] == index;
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

    /** The values this op reads (a copy: 0 the model's input, k + 1 op k's output), or null: the value before it. */
    public int[] inputs() {
        return inputs == null ? null : inputs.clone();
    }

    /** A subset op's first channel. */
    public int subsetFrom() {
        return from;
    }

    /** A subset op's last channel (inclusive). */
    public int subsetTo() {
        return to;
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
        return name + (kind == Kind.SUBSET ? " " + from + ".." + to : "") + (window != null ? " " + window : "")
                + (activation != ActivationFunction.IDENTITY ? " " + activation.name().toLowerCase(java.util.Locale.ROOT)
                : "") + (inputs != null ? " <- " + java.util.Arrays.toString(inputs) : "");
    }
}
