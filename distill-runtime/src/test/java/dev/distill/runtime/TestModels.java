package dev.distill.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small models of every op kind and weight encoding, written by the real writer, for tests. */
final class TestModels {

    private TestModels() {
    }

    static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return v;
    }

    static QuantizedTensor floats(String key, Random r, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        return QuantizedTensor.ofFloats(key, shape, gaussian(r, n, 0.3));
    }

    /** Symmetric int8 codes per channel of {@code axis}, every {@code keepEvery}-th value stored (the rest pruned). */
    static QuantizedTensor int8(String key, Random r, int axis, int keepEvery, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        int channels = (int) shape[axis];
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = 0.002f + 0.001f * r.nextFloat();
        }
        List<Integer> positions = new ArrayList<>();
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i % keepEvery == 0) {
                positions.add(i);
                codes.add(r.nextInt(255) - 127);
            }
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.LINEAR, 8, axis, scales, new int[channels], null,
                keepEvery == 1 ? null : positions.stream().mapToInt(Integer::intValue).toArray(),
                codes.stream().mapToInt(Integer::intValue).toArray(), null);
    }

    static QuantizedTensor kmeans(String key, Random r, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        int[] codes = new int[n];
        for (int i = 0; i < n; i++) {
            codes[i] = Math.min(15, Math.abs((int) (r.nextGaussian() * 4)));
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.KMEANS, 4, -1, null, null, gaussian(r, 16, 0.3),
                null, codes, null);
    }

    static QuantizedTensor binary(String key, Random r, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        int[] codes = new int[n];
        for (int i = 0; i < n; i++) {
            codes[i] = r.nextInt(2);
        }
        return new QuantizedTensor(key, shape, QuantizedTensor.Kind.BINARY, 1, -1, new float[] {0.05f}, null, null,
                null, codes, null);
    }

    /** An MLP 64 → 16 → 10 on int8 codes with calibrated ranges (the int8 path runs it end to end). */
    static ModelDescription mlp(long seed, int keepEvery) {
        Random r = new Random(seed);
        List<Op> ops = List.of(
                Op.dense(int8("0_W", r, 1, keepEvery, 64, 16), floats("0_b", r, 16), ActivationFunction.RELU, 0)
                        .withInputRange(new Int8Range(1f / 255, -128)),
                Op.dense(int8("1_W", r, 1, 1, 16, 10), floats("1_b", r, 10), ActivationFunction.SOFTMAX, 0)
                        .withInputRange(new Int8Range(0.02f, -128)));
        return new ModelDescription(new int[] {64, 1, 1}, new Preprocessing(1f / 16, 0), List.of("zero", "one", "two",
                "three", "four", "five", "six", "seven", "eight", "nine"), ops);
    }

    /** A small CNN of every other op kind: conv, batch norm, pooling, depthwise, activation, global pooling. */
    static ModelDescription cnn(long seed) {
        Random r = new Random(seed);
        Window same3 = new Window(3, 3, 1, 1, 0, 0, 1, 1, true);
        List<Op> ops = List.of(
                Op.conv2d(kmeans("0_W", r, 4, 1, 3, 3), floats("0_b", r, 4), same3, ActivationFunction.IDENTITY, 0),
                Op.scaleShift(gaussian(r, 4, 1), gaussian(r, 4, 0.1)),
                Op.activation(ActivationFunction.RELU6, 0),
                Op.pool(true, new Window(2, 2, 2, 2, 0, 0, 1, 1, false)),
                Op.depthwiseConv2d(floats("4_W", r, 3, 3, 4, 2), floats("4_b", r, 8),
                        new Window(3, 3, 2, 2, 1, 1, 1, 1, false), ActivationFunction.SWISH, 0),
                Op.conv2d(binary("5_W", r, 6, 8, 1, 1), null, new Window(1, 1, 1, 1, 0, 0, 1, 1, false),
                        ActivationFunction.LEAKYRELU, 0.01f),
                Op.pool(false, new Window(2, 2, 1, 1, 0, 0, 1, 1, false)),
                Op.globalPool(false),
                Op.dense(floats("8_W", r, 6, 3), floats("8_b", r, 3), ActivationFunction.SOFTMAX, 0));
        return new ModelDescription(new int[] {1, 12, 12}, new Preprocessing(1f / 255, 0), List.of(), ops);
    }

    /**
     * A graph: two convs with a residual add, a subset of its channels concatenated back onto it, a batch
     * norm read by two ops, global pooling and a softmax. Values: 0 input, 1 conv a, 2 conv b, 3 add,
     * 4 subset, 5 concat, 6 scale-shift, 7 relu of 6, 8 add of 6 and 7, 9 pool, 10 dense.
     */
    static ModelDescription graph(long seed) {
        Random r = new Random(seed);
        Window same = new Window(3, 3, 1, 1, 0, 0, 1, 1, true);
        List<Op> ops = List.of(
                Op.conv2d(floats("a_W", r, 4, 1, 3, 3), floats("a_b", r, 4), same, ActivationFunction.RELU, 0),
                Op.conv2d(floats("b_W", r, 4, 4, 3, 3), null, same, ActivationFunction.IDENTITY, 0).withInputs(1),
                Op.add().withInputs(1, 2),
                Op.subset(1, 2).withInputs(3),
                Op.concat().withInputs(3, 4),
                Op.scaleShift(gaussian(r, 6, 1), gaussian(r, 6, 0.1)).withInputs(5),
                Op.activation(ActivationFunction.RELU, 0).withInputs(6),
                Op.add().withInputs(6, 7),
                Op.globalPool(false).withInputs(8),
                Op.dense(floats("d_W", r, 6, 3), floats("d_b", r, 3), ActivationFunction.SOFTMAX, 0));
        return new ModelDescription(new int[] {1, 6, 6}, Preprocessing.NONE, List.of(), ops);
    }

    static byte[] packed(ModelDescription d, boolean huffman) {
        return PackedFormat.write(d, huffman).bytes();
    }
}
