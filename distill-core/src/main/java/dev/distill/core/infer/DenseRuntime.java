package dev.distill.core.infer;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.layers.DropoutLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * A network of dense layers (plus dropout, which does nothing at inference) compiled to plain float
 * arrays, for one example at a time. Why: DL4J's {@code output()} spends a fixed tenth of a
 * millisecond or more per call on workspaces and op dispatch, which for the 25k-parameter student is
 * many times its arithmetic (about 25,000 multiply-adds). Same results as {@code output()} up to
 * float rounding; immutable, so one instance serves any number of threads.
 */
public final class DenseRuntime {

    private final int inputSize;
    private final List<Step> steps;

    private DenseRuntime(int inputSize, List<Step> steps) {
        this.inputSize = inputSize;
        this.steps = List.copyOf(steps);
    }

    /** One dense layer: weights row-major [out][in], so each output is one contiguous dot product. */
    private record Step(int in, int out, float[] weights, float[] bias, Act activation, float alpha) {
    }

    private enum Act { IDENTITY, RELU, RELU6, LEAKYRELU, ELU, TANH, SIGMOID, SWISH, SOFTMAX }

    /**
     * Compiles {@code net}; later changes to its parameters are not seen.
     *
     * @throws IllegalArgumentException naming the first layer it cannot run (convolution, batch norm, ...)
     */
    public static DenseRuntime compile(MultiLayerNetwork net) {
        List<Step> steps = new ArrayList<>();
        Layer[] layers = net.getLayers();
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            if (layer instanceof DropoutLayer) {
                continue;
            }
            if (!(layer instanceof DenseLayer || layer instanceof BaseOutputLayer) || layer.getParam("W") == null) {
                throw new IllegalArgumentException("layer " + i + " (" + layer.getClass().getSimpleName()
                        + ") is not a dense layer: only dense networks compile to the plain-array runtime");
            }
            IActivation fn = ((BaseLayer) layer.conf().getLayer()).getActivationFn();
            int in = (int) layer.getParam("W").size(0);
            int out = (int) layer.getParam("W").size(1);
            if (!steps.isEmpty() && steps.get(steps.size() - 1).out() != in) {
                throw new IllegalArgumentException("layer " + i + " takes " + in + " inputs but receives "
                        + steps.get(steps.size() - 1).out());
            }
            float alpha = (float) (fn instanceof ActivationLReLU l ? l.getAlpha()
                    : fn instanceof ActivationELU e ? e.getAlpha() : 0);
            steps.add(new Step(in, out,
                    layer.getParam("W").transpose().dup('c').data().asFloat(),   // [in, out] -> [out][in]
                    // the first half of a low-rank pair has no bias
                    layer.getParam("b") == null ? new float[out] : layer.getParam("b").dup('c').data().asFloat(),
                    activation(fn, i), alpha));
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("the network has no dense layer");
        }
        return new DenseRuntime(steps.get(0).in(), steps);
    }

    private static Act activation(IActivation fn, int layer) {
        if (fn instanceof ActivationIdentity) {
            return Act.IDENTITY;
        } else if (fn instanceof ActivationReLU6) {
            return Act.RELU6;
        } else if (fn instanceof ActivationReLU r) {
            boolean plain = (r.getMax() == null || r.getMax() == 0) && (r.getThreshold() == null || r.getThreshold() == 0)
                    && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0);
            if (plain) {
                return Act.RELU;
            }
        } else if (fn instanceof ActivationLReLU) {
            return Act.LEAKYRELU;
        } else if (fn instanceof ActivationELU) {
            return Act.ELU;
        } else if (fn instanceof ActivationTanH) {
            return Act.TANH;
        } else if (fn instanceof ActivationSigmoid) {
            return Act.SIGMOID;
        } else if (fn instanceof ActivationSwish) {
            return Act.SWISH;
        } else if (fn instanceof ActivationSoftmax) {
            return Act.SOFTMAX;
        }
        throw new IllegalArgumentException("layer " + layer + ": activation " + fn + " is not supported by the"
                + " plain-array runtime");
    }

    public int inputSize() {
        return inputSize;
    }

    public int outputSize() {
        return steps.get(steps.size() - 1).out();
    }

    /** The network's output for one example (class probabilities for a softmax output layer). */
    public float[] output(float[] input) {
        if (input.length != inputSize) {
            throw new IllegalArgumentException("expected " + inputSize + " inputs, got " + input.length);
        }
        float[] x = input;
        for (Step step : steps) {
            float[] y = new float[step.out()];
            float[] w = step.weights();
            int in = step.in();
            for (int o = 0; o < y.length; o++) {
                y[o] = step.bias()[o] + dot(w, o * in, x, in);
            }
            activate(y, step.activation(), step.alpha());
            x = y;
        }
        return x;
    }

    /** The index of the largest output: the predicted class. */
    public int predict(float[] input) {
        float[] out = output(input);
        int best = 0;
        for (int i = 1; i < out.length; i++) {
            if (out[i] > out[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Four partial sums: independent chains the CPU can overlap, instead of one long dependency. */
    private static float dot(float[] w, int offset, float[] x, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[offset + i] * x[i];
            s1 += w[offset + i + 1] * x[i + 1];
            s2 += w[offset + i + 2] * x[i + 2];
            s3 += w[offset + i + 3] * x[i + 3];
        }
        for (; i < n; i++) {
            s0 += w[offset + i] * x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static void activate(float[] v, Act act, float alpha) {
        switch (act) {
            case IDENTITY:
                return;
            case SOFTMAX:
                softmax(v);
                return;
            default:
                for (int i = 0; i < v.length; i++) {
                    v[i] = apply(act, v[i], alpha);
                }
        }
    }

    private static float apply(Act act, float x, float alpha) {
        switch (act) {
            case RELU:
                return Math.max(0f, x);
            case RELU6:
                return Math.min(6f, Math.max(0f, x));
            case LEAKYRELU:
                return x >= 0 ? x : alpha * x;
            case ELU:
                return x >= 0 ? x : (float) (alpha * (Math.exp(x) - 1));
            case TANH:
                return (float) Math.tanh(x);
            case SIGMOID:
                return (float) (1 / (1 + Math.exp(-x)));
            case SWISH:
                return (float) (x / (1 + Math.exp(-x)));
            default:
                throw new IllegalStateException(act.name());
        }
    }

    private static void softmax(float[] v) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / sum);
        }
    }
}
