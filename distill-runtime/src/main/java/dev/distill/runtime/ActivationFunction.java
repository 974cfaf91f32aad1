package dev.distill.runtime;

/** The activations a layer of the packed format can apply (each with DL4J 1.0.0-M2.1's definition). */
public enum ActivationFunction {
    IDENTITY, RELU, RELU6, LEAKYRELU, ELU, TANH, SIGMOID, SWISH, SOFTMAX;

    /** Whether f(max(a, b)) = max(f(a), f(b)): such an activation commutes with max pooling. */
    boolean nonDecreasing(float alpha) {
        return this == RELU || this == RELU6 || this == TANH || this == SIGMOID || this == IDENTITY
                || this == LEAKYRELU && alpha >= 0;
    }

    /** Applies the activation to {@code v[from, from + n)} in place; {@code alpha} is leaky ReLU's slope or ELU's α. */
    void apply(float[] v, int from, int n, float alpha) {
        int end = from + n;
        switch (this) {
            case IDENTITY:
                return;
            case SOFTMAX:
                softmax(v, from, n);
                return;
            case RELU:
                for (int i = from; i < end; i++) {
                    v[i] = Math.max(0f, v[i]);
                }
                return;
            case RELU6:
                for (int i = from; i < end; i++) {
                    v[i] = Math.min(6f, Math.max(0f, v[i]));
                }
                return;
            case LEAKYRELU:
                for (int i = from; i < end; i++) {
                    v[i] = v[i] >= 0 ? v[i] : alpha * v[i];
                }
                return;
            case ELU:
                for (int i = from; i < end; i++) {
                    v[i] = v[i] >= 0 ? v[i] : (float) (alpha * (Math.exp(v[i]) - 1));
                }
                return;
            case TANH:
                for (int i = from; i < end; i++) {
                    v[i] = (float) Math.tanh(v[i]);
                }
                return;
            case SIGMOID:
                for (int i = from; i < end; i++) {
                    v[i] = (float) (1 / (1 + Math.exp(-v[i])));
                }
                return;
            case SWISH:
                for (int i = from; i < end; i++) {
                    v[i] = (float) (v[i] / (1 + Math.exp(-v[i])));
                }
                return;
            default:
                throw new IllegalStateException(name());
        }
    }

    /** Softmax in place, shifted by the maximum so that exp cannot overflow, summed in double. */
    static void softmax(float[] v, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, v[i]);
        }
        double sum = 0;
        for (int i = from; i < from + n; i++) {
            v[i] = (float) Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = from; i < from + n; i++) {
            v[i] = (float) (v[i] / sum);
        }
    }
}
