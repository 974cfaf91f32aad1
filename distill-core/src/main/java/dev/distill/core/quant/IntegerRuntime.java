package dev.distill.core.quant;

import dev.distill.core.infer.DenseRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * A packed INT8 dense network run in integers, one example at a time: activations are int8 codes of
 * the calibrated ranges, each layer multiplies int8 by int8 into an int32 accumulator (with the zero
 * points' corrections and the bias quantized to the accumulator's scale, as in Jacob et al. 2018,
 * "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference"),
 * and requantizes to the next layer's int8 input by a fixed-point multiplier and a shift. ReLU and
 * ReLU6 are clamps in the integer domain; tanh and sigmoid go through float. Only the last layer's
 * outputs become floats (logits, then softmax). Immutable; one instance serves any number of threads.
 */
public final class IntegerRuntime {

    private enum Act { IDENTITY, RELU, RELU6, TANH, SIGMOID, SOFTMAX }

    /**
     * One dense layer. {@code w} holds the weight codes row-major [out][in]; input real value =
     * xScale × (q − xZero), weight = wScale[o] × (code − wZero[o]).
     */
    private record Step(int in, int out, byte[] w, int[] wZero, int[] wSum, float[] wScale, int[] bias, float xScale,
            int xZero, Act act, int[] multiplier, int[] shift, float yScale, int yZero) {
    }

    private final List<Step> steps;
    private final Int8Dot kernel;

    private IntegerRuntime(List<Step> steps, Int8Dot kernel) {
        this.steps = List.copyOf(steps);
        this.kernel = kernel;
    }

    /** Compiles a packed model for the best kernel this JVM has ({@link Int8Dot#best()}). */
    public static IntegerRuntime compile(PackedModelFile.Packed packed) {
        return compile(packed, Int8Dot.best());
    }

    /**
     * The integer path of a packed model if it has one: empty for a file without activation ranges (not
     * INT8), and for one with a layer the path cannot run, whose reason goes to {@code whyNot}.
     */
    public static Optional<IntegerRuntime> forPacked(PackedModelFile.Packed packed, Consumer<String> whyNot) {
        if (packed.activations().isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(compile(packed));
        } catch (IllegalArgumentException e) {
            whyNot.accept(e.getMessage());
            return Optional.empty();
        }
    }

    /** The same network on another kernel. */
    public IntegerRuntime withKernel(Int8Dot other) {
        return new IntegerRuntime(steps, other);
    }

    /** The kernel of the inner products: "vector" or "scalar". */
    public String kernel() {
        return kernel.name();
    }

    /**
     * Compiles a packed model.
     *
     * @throws IllegalArgumentException naming what does not fit: a non-dense layer, a weight that is not
     *                                  linear at 8 bits or fewer, a layer without its activation range
     */
    public static IntegerRuntime compile(PackedModelFile.Packed packed, Int8Dot kernel) {
        Map<String, QuantizedTensor> tensors = new HashMap<>();
        packed.tensors().forEach(t -> tensors.put(t.key(), t));
        Map<Integer, ActivationCalibration.Range> ranges = new HashMap<>();
        packed.activations().forEach(r -> ranges.put(r.layer(), r));
        Layer[] layers = packed.net().getLayers();
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            if (!(layer instanceof DenseLayer || layer instanceof BaseOutputLayer)) {
                throw new IllegalArgumentException("layer " + i + " (" + layer.getClass().getSimpleName()
                        + ") is not dense: the integer path runs dense networks");
            }
            QuantizedTensor w = tensors.get(i + "_W");
            if (w == null || w.kind() != QuantizedTensor.Kind.LINEAR) {
                throw new IllegalArgumentException("layer " + i + ": weights are " + (w == null ? "missing"
                        : w.kind().name().toLowerCase(java.util.Locale.ROOT)) + ", the integer path needs linear codes");
            }
            ActivationCalibration.Range x = ranges.get(i);
            if (x == null) {
                throw new IllegalArgumentException("layer " + i + ": no calibrated input range");
            }
            boolean last = i == layers.length - 1;
            ActivationCalibration.Range y = last ? null : ranges.get(i + 1);
            if (!last && y == null) {
                throw new IllegalArgumentException("layer " + (i + 1) + ": no calibrated input range");
            }
            steps.add(step(i, layer, w, tensors.get(i + "_b"), x, y, last));
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("the network has no layer");
        }
        return new IntegerRuntime(steps, kernel);
    }

    private static Step step(int index, Layer layer, QuantizedTensor w, QuantizedTensor b,
            ActivationCalibration.Range x, ActivationCalibration.Range y, boolean last) {
        int in = (int) w.shape()[0];
        int out = (int) w.shape()[1];
        byte[] codes = new byte[in * out];
        int[] wSum = new int[out];
        for (int k = 0; k < w.stored(); k++) {
            int i = w.position(k);
            // DL4J's dense W is [in, out]: c-order index i = row * out + column
            int row = i / out;
            int col = i % out;
            codes[col * in + row] = (byte) w.codes()[k];
        }
        int[] wZero = new int[out];
        float[] wScale = new float[out];
        for (int o = 0; o < out; o++) {
            int c = w.channelAxis() < 0 ? 0 : o;
            wZero[o] = w.zeroPoints()[c];
            wScale[o] = w.scales()[c];
        }
        if (w.positions() != null) {
            // values not stored are exactly zero: their code is the zero point
            boolean[] stored = new boolean[in * out];
            for (int k = 0; k < w.stored(); k++) {
                stored[w.position(k)] = true;
            }
            for (int i = 0; i < stored.length; i++) {
                if (!stored[i]) {
                    codes[(i % out) * in + i / out] = (byte) wZero[i % out];
                }
            }
        }
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                wSum[o] += codes[o * in + i];
            }
        }
        float[] bias = b == null ? new float[out] : b.dequantize();
        int[] biasQ = new int[out];
        int[] multiplier = new int[out];
        int[] shift = new int[out];
        for (int o = 0; o < out; o++) {
            double accScale = (double) x.scale() * wScale[o];
            biasQ[o] = (int) Math.round(bias[o] / accScale);
            if (!last) {
                long[] m = fixedPoint(accScale / y.scale());
                multiplier[o] = (int) m[0];
                shift[o] = (int) m[1];
            }
        }
        IActivation fn = ((BaseLayer) layer.conf().getLayer()).getActivationFn();
        Act act = activation(fn, index);
        if (act == Act.SOFTMAX && !last) {
            throw new IllegalArgumentException("layer " + index + ": softmax before the last layer");
        }
        return new Step(in, out, codes, wZero, wSum, wScale, biasQ, x.scale(), x.zeroPoint(), act, multiplier, shift,
                last ? 0 : y.scale(), last ? 0 : y.zeroPoint());
    }

    /** {@code m} as {@code multiplier × 2^−shift} with a 31-bit multiplier in [2^30, 2^31). */
    static long[] fixedPoint(double m) {
        if (!(m > 0)) {
            return new long[] {0, 1};
        }
        int exponent = Math.getExponent(m);
        long multiplier = Math.round(m * Math.pow(2, 30 - exponent));
        int shift = 30 - exponent;
        if (multiplier == 1L << 31) {
            multiplier >>= 1;
            shift--;
        }
        return new long[] {multiplier, shift};
    }

    /** {@code acc × multiplier × 2^−shift}, rounded half up, in integers. */
    static int scale(int acc, int multiplier, int shift) {
        if (shift > 62) {
            return 0;
        }
        if (shift <= 0) {
            return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, ((long) acc * multiplier) << -shift));
        }
        long product = (long) acc * multiplier;
        return (int) ((product + (1L << (shift - 1))) >> shift);
    }

    private static Act activation(IActivation fn, int layer) {
        if (fn instanceof ActivationIdentity) {
            return Act.IDENTITY;
        } else if (fn instanceof ActivationReLU6) {
            return Act.RELU6;
        } else if (fn instanceof ActivationReLU r && (r.getMax() == null || r.getMax() == 0)
                && (r.getThreshold() == null || r.getThreshold() == 0)
                && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0)) {
            return Act.RELU;
        } else if (fn instanceof ActivationTanH) {
            return Act.TANH;
        } else if (fn instanceof ActivationSigmoid) {
            return Act.SIGMOID;
        } else if (fn instanceof ActivationSoftmax) {
            return Act.SOFTMAX;
        }
        throw new IllegalArgumentException("layer " + layer + ": activation " + fn + " is not supported by the "
                + "integer path");
    }

    public int inputSize() {
        return steps.get(0).in();
    }

    /** The input quantized to the first layer's int8 codes. */
    byte[] quantizeInput(float[] input) {
        Step first = steps.get(0);
        if (input.length != first.in()) {
            throw new IllegalArgumentException("expected " + first.in() + " inputs, got " + input.length);
        }
        byte[] q = new byte[input.length];
        float inv = 1f / first.xScale();
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) Math.max(-128, Math.min(127, Math.round(input[i] * inv) + first.xZero()));
        }
        return q;
    }

    /**
     * Layer {@code layer}'s int32 accumulators for int8 input codes: Σ (x − xZero)(w − wZero) + the
     * quantized bias, computed as Σ x·w and the zero points' corrections.
     */
    int[] accumulators(int layer, byte[] x) {
        Step s = steps.get(layer);
        byte[] w = s.w();
        int in = s.in();
        int sumX = 0;
        for (int i = 0; i < in; i++) {
            sumX += x[i];
        }
        int[] acc = new int[s.out()];
        int constant = in * s.xZero();
        for (int o = 0; o < acc.length; o++) {
            int dot = kernel.dot(w, o * in, x, in);
            int wz = s.wZero()[o];
            acc[o] = dot - wz * sumX - s.xZero() * s.wSum()[o] + constant * wz + s.bias()[o];
        }
        return acc;
    }

    /** The next layer's int8 input from layer {@code layer}'s accumulators. */
    byte[] requantize(int layer, int[] acc) {
        Step s = steps.get(layer);
        byte[] y = new byte[acc.length];
        int lo = -128;
        int hi = 127;
        if (s.act() == Act.RELU || s.act() == Act.RELU6) {
            lo = Math.max(lo, s.yZero());
        }
        if (s.act() == Act.RELU6) {
            hi = Math.min(hi, Math.round(6f / s.yScale()) + s.yZero());
        }
        for (int o = 0; o < acc.length; o++) {
            int q;
            if (s.act() == Act.TANH || s.act() == Act.SIGMOID) {
                double real = (double) s.xScale() * s.wScale()[o] * acc[o];
                double a = s.act() == Act.TANH ? Math.tanh(real) : 1 / (1 + Math.exp(-real));
                q = (int) Math.round(a / s.yScale()) + s.yZero();
            } else {
                q = scale(acc[o], s.multiplier()[o], s.shift()[o]) + s.yZero();
            }
            y[o] = (byte) Math.max(lo, Math.min(hi, q));
        }
        return y;
    }

    /** The network's output for one example: class probabilities for a softmax output layer, else its values. */
    public float[] output(float[] input) {
        byte[] x = quantizeInput(input);
        for (int l = 0; l < steps.size() - 1; l++) {
            x = requantize(l, accumulators(l, x));
        }
        int lastIndex = steps.size() - 1;
        Step last = steps.get(lastIndex);
        int[] acc = accumulators(lastIndex, x);
        float[] out = new float[acc.length];
        for (int o = 0; o < out.length; o++) {
            out[o] = (float) ((double) last.xScale() * last.wScale()[o] * acc[o]);
        }
        switch (last.act()) {
            case SOFTMAX -> DenseRuntime.softmax(out);
            case RELU -> {
                for (int o = 0; o < out.length; o++) {
                    out[o] = Math.max(0f, out[o]);
                }
            }
            case TANH -> {
                for (int o = 0; o < out.length; o++) {
                    out[o] = (float) Math.tanh(out[o]);
                }
            }
            case SIGMOID -> {
                for (int o = 0; o < out.length; o++) {
                    out[o] = (float) (1 / (1 + Math.exp(-out[o])));
                }
            }
            case RELU6 -> {
                for (int o = 0; o < out.length; o++) {
                    out[o] = Math.min(6f, Math.max(0f, out[o]));
                }
            }
            default -> {
            }
        }
        return out;
    }

    /** The predicted class: the largest output. */
    public int predict(float[] input) {
        return DenseRuntime.argmax(output(input));
    }
}
