package dev.distill.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What a packed file holds: the input's shape (channels, height, width; a flat vector is
 * (features, 1, 1)), the preprocessing of raw values, the class names (empty when the data has none)
 * and the ops in order. Immutable.
 */
public final class ModelDescription {

    private final int[] inputShape;
    private final Preprocessing preprocessing;
    private final List<String> classNames;
    private final List<Op> ops;

    public ModelDescription(int[] inputShape, Preprocessing preprocessing, List<String> classNames, List<Op> ops) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(inputShape)
                    + ": (channels, height, width) expected");
        }
        this.inputShape = inputShape.clone();
        this.preprocessing = preprocessing;
        this.classNames = Collections.unmodifiableList(new ArrayList<>(classNames));
        this.ops = Collections.unmodifiableList(new ArrayList<>(ops));
    }

    /** (channels, height, width). */
    public int[] inputShape() {
        return inputShape.clone();
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    public List<String> classNames() {
        return classNames;
    }

    public List<Op> ops() {
        return ops;
    }

    /** Whether every dense and conv op with linear weights of 8 bits or fewer has a calibrated input range. */
    public boolean hasInt8() {
        boolean any = false;
        for (Op op : ops) {
            if (Int8Path.runsInInt8(op)) {
                any = true;
            }
        }
        return any;
    }

    /**
     * The same model with each batch norm (scale and shift) folded into the dense or conv op before it
     * where that is exact and keeps the weights' encoding: the op has no activation of its own, and its
     * weights are float or linear codes with one scale per output channel (the codes stay, the scales
     * take the factor). An activation op right after a dense or conv op without one merges into it.
     */
    public ModelDescription folded() {
        int[] consumers = new int[ops.size() + 1];
        for (int i = 0; i < ops.size(); i++) {
            for (int v : ops.get(i).inputsAt(i)) {
                if (v >= 0 && v < consumers.length) {
                    consumers[v]++;
                }
            }
        }
        // value numbers change as ops merge: map[old value] = new value
        int[] map = new int[ops.size() + 1];
        List<Op> out = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Op previous = out.isEmpty() ? null : out.get(out.size() - 1);
            boolean onlyReader = op.readsPrevious(i) && consumers[i] == 1 && map[i] == out.size();
            if (previous != null && onlyReader && previous.weighted()
                    && previous.activation == ActivationFunction.IDENTITY) {
                Op merged = op.kind == Op.Kind.SCALE_SHIFT ? foldInto(previous, op.scale, op.shift)
                        : op.kind == Op.Kind.ACTIVATION ? previous.withActivation(op.activation, op.alpha) : null;
                if (merged != null) {
                    out.set(out.size() - 1, merged);
                    map[i + 1] = out.size();
                    continue;
                }
            }
            if (op.inputs != null) {
                int[] remapped = op.inputs.clone();
                for (int k = 0; k < remapped.length; k++) {
                    remapped[k] = remapped[k] >= 0 && remapped[k] <= i ? map[remapped[k]] : remapped[k];
                }
                op = op.withInputs(remapped);
            } else if (map[i] != out.size()) {
                op = op.withInputs(map[i]);
            }
            out.add(op);
            map[i + 1] = out.size();
        }
        return new ModelDescription(inputShape, preprocessing, classNames, out);
    }

    /** {@code op} followed by x × scale + shift per output channel, or null if its weights' encoding cannot take it. */
    private static Op foldInto(Op op, float[] scale, float[] shift) {
        QuantizedTensor w = op.weights;
        long[] s = w.shape();
        int channels = outputChannels(op);
        if (channels != scale.length) {
            return null;
        }
        QuantizedTensor folded;
        if (w.kind() == QuantizedTensor.Kind.FLOAT) {
            float[] v = w.dequantize();
            for (int i = 0; i < v.length; i++) {
                v[i] *= scale[outputChannelOf(op, i)];
            }
            folded = QuantizedTensor.ofFloats(w.key(), s, v);
        } else if (w.kind() == QuantizedTensor.Kind.LINEAR && w.channelAxis() == outputAxis(op)
                && op.kind != Op.Kind.DEPTHWISE_CONV2D) {
            float[] scales = w.scales().clone();
            for (int c = 0; c < scales.length; c++) {
                scales[c] *= scale[c];
            }
            folded = w.withScales(scales);
        } else {
            return null;
        }
        float[] b = op.bias == null ? new float[channels] : op.bias.dequantize();
        for (int c = 0; c < channels; c++) {
            b[c] = b[c] * scale[c] + shift[c];
        }
        String biasKey = op.bias != null ? op.bias.key() : w.key() + "_bias";
        return op.withTensors(folded, QuantizedTensor.ofFloats(biasKey, new long[] {channels}, b));
    }

    /** The weights' axis that is the output channel (depthwise: none, it is the last two axes). */
    static int outputAxis(Op op) {
        return op.kind == Op.Kind.DENSE ? 1 : op.kind == Op.Kind.CONV2D ? 0 : -2;
    }

    static int outputChannels(Op op) {
        long[] s = op.weights.shape();
        switch (op.kind) {
            case DENSE:
                return (int) s[1];
            case CONV2D:
                return (int) s[0];
            default:
                return (int) (s[2] * s[3]);
        }
    }

    /** The output channel of flat (c-order) weight index {@code i}. */
    static int outputChannelOf(Op op, int i) {
        long[] s = op.weights.shape();
        switch (op.kind) {
            case DENSE:
                return (int) (i % s[1]);
            case CONV2D:
                return (int) (i / (s[1] * s[2] * s[3]));
            default:
                return (int) (i % (s[2] * s[3]));
        }
    }
}
