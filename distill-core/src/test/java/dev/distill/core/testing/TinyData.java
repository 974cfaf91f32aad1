package dev.distill.core.testing;

import dev.distill.core.data.LabeledData;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.factory.Nd4j;

/** Small learnable data and small models for tests (shared with the runner through the test-jar). */
public final class TinyData {

    private TinyData() {
    }

    /**
     * Gaussian clusters, one per class, with unit noise around centres drawn in [-3, 3]: learnable
     * by a small MLP, not perfectly separable.
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

    /** An MLP with one hidden layer. */
    public static ModelSpec mlp(int hidden, int classes) {
        return new ModelSpec(List.of(new LayerSpec.Dense(hidden, Activation.RELU), new LayerSpec.Output(classes)));
    }
}
