package dev.distill.core.testing;

import dev.distill.core.data.LabeledData;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Small learnable data and small models for tests (shared with the runner through distill-core's
 * test-jar). Everything is deterministic in its seed.
 */
public final class TinyData {

    private TinyData() {
    }

    /**
     * Gaussian clusters, one per class, with unit noise around centres drawn uniformly in [-3, 3]^d:
     * learnable by a small MLP (a few epochs reach well over 90%), not perfectly separable. Labels
     * cycle through the classes ({@code i % classes}), so every class has {@code n / classes}
     * examples give or take one. Features are float {@code [n, features]}.
     */
    public static LabeledData blobs(int n, int features, int classes, long seed) {
        Random random = new Random(seed);
        double[][] centres = new double[classes][features];
        for (double[] centre : centres) {
            for (int f = 0; f < features; f++) {
                centre[f] = random.nextDouble() * 6 - 3;
            }
        }
        float[][] x = new float[n][features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int f = 0; f < features; f++) {
                x[i][f] = (float) (centres[y[i]][f] + random.nextGaussian());
            }
        }
        return new LabeledData(Nd4j.createFromArray(x), y, classes);
    }

    /**
     * Examples whose first feature is their position ({@code 0 .. n-1}) and whose label is
     * {@code i % classes}: lets a test tell which examples ended up where.
     */
    public static LabeledData indexed(int n, int features, int classes) {
        float[][] x = new float[n][features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < features; f++) {
                x[i][f] = f == 0 ? i : i * 0.5f + f;
            }
            y[i] = i % classes;
        }
        return new LabeledData(Nd4j.createFromArray(x), y, classes);
    }

    /** An MLP with one hidden ReLU layer of {@code hidden} units and a softmax output. */
    public static ModelSpec mlp(int hidden, int classes) {
        return new ModelSpec(List.of(new LayerSpec.Dense(hidden, Activation.RELU), new LayerSpec.Output(classes)));
    }

    /** The flat input shape of {@link #blobs} data with {@code features} features. */
    public static InputShape flat(int features) {
        return InputShape.flat(features);
    }

    /** Fraction of positions where two predictions agree. */
    public static double agreement(int[] a, int[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " vs " + b.length + " predictions");
        }
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        return a.length == 0 ? Double.NaN : (double) same / a.length;
    }
}
