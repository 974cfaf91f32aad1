package dev.distill.core.quant;

import dev.distill.runtime.QuantizedTensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.prune.MagnitudePruner;
import dev.distill.core.prune.Prunable;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.FineTuning;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;

/** Centroid fine-tuning by grouped gradients, straight-through fine-tuning, pruned zeros kept. */
class FineTuningTest {

    static final ModelSpec SPEC = TinyData.mlp(16, 4);
    /** One draw of blobs (the same class centres), split 400 / 200. */
    static final LabeledData ALL = TinyData.blobs(600, 20, 4, 1);
    static final LabeledData TRAIN = ALL.subset(java.util.stream.IntStream.range(0, 400).toArray());
    static final LabeledData VALIDATION = ALL.subset(java.util.stream.IntStream.range(400, 600).toArray());

    private static final java.util.Map<Double, MultiLayerNetwork> TRAINED = new java.util.HashMap<>();

    /** The MLP trained 5 epochs on {@link #TRAIN}, magnitude-pruned to {@code sparsity}; a copy, trained once. */
    static synchronized MultiLayerNetwork trained(double sparsity) {
        return TRAINED.computeIfAbsent(sparsity, FineTuningTest::train).clone();
    }

    private static MultiLayerNetwork train(double sparsity) {
        MultiLayerNetwork net = NetworkFactory.build(SPEC, TinyData.flat(20), new Adam(1e-2), 0, 3);
        new dev.distill.core.train.Trainer(new TrainingSpec(5, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0), List.of())
                .fit(net, TRAIN.features(), TRAIN.oneHot(), VALIDATION, 3);
        if (sparsity > 0) {
            MagnitudePruner.masks(net, Prunable.of(net, false, false), MagnitudePruner.Scope.LAYER, sparsity)
                    .applyTo(net);
        }
        return net;
    }

    @Test
    void aCentroidMovesByLearningRateTimesTheSumOfItsMembersGradients() {
        double lr = 0.05;
        MultiLayerNetwork net = NetworkFactory.build(SPEC, TinyData.flat(20), new Sgd(lr), 0, 3);
        net.setParams(trained(0).params());
        INDArray w = net.getParam("0_W");
        QuantizedTensor t = Quantizers.kmeans("0_W", PackedModelFile.values(w), w.shape(), 3,
                QuantSettings.Init.LINEAR, 1, null);
        CentroidTuner tuner = new CentroidTuner(net, List.of(t));
        DataSet batch = new DataSet(TRAIN.features().getRows(0, 1, 2, 3, 4, 5, 6, 7),
                TRAIN.oneHot().getRows(0, 1, 2, 3, 4, 5, 6, 7));
        // DL4J's gradient at the shared weights, per weight: summed over the batch (its updater divides by
        // the batch size, so a step is lr × the gradient of the batch's mean loss)
        net.setInput(batch.getFeatures());
        net.setLabels(batch.getLabels());
        net.computeGradientAndScore();
        float[] g = PackedModelFile.values(net.gradient().getGradientFor("0_W"));
        double[] expected = new double[t.codebook().length];
        for (int c = 0; c < expected.length; c++) {
            expected[c] = t.codebook()[c];
        }
        for (int k = 0; k < t.stored(); k++) {
            expected[t.codes()[k]] -= lr * g[t.position(k)] / 8;
        }
        net.fit(batch);
        tuner.batchDone(8, net.score());
        QuantizedTensor tuned = CentroidTuner.codebooksOf(net, List.of(t)).get(0);
        boolean moved = false;
        for (int c = 0; c < expected.length; c++) {
            assertEquals(expected[c], tuned.codebook()[c], 1e-6, "centroid " + c);
            moved |= Math.abs(expected[c] - t.codebook()[c]) > 1e-5;
        }
        assertTrue(moved, "the step moved some centroid");
        float[] after = PackedModelFile.values(net.getParam("0_W"));
        for (int k = 0; k < t.stored(); k++) {
            assertEquals(tuned.codebook()[t.codes()[k]], after[t.position(k)], "every member sits on its centroid");
        }
    }

    @Test
    void groupedUpdateAddsTheSumOfMemberDisplacements() {
        double[] centroids = {0, 1};
        double[] weights = {0.1, -0.3, 1.5, 0.9};
        CentroidTuner.groupedUpdate(centroids, new int[] {0, 0, 1, 1}, k -> weights[k]);
        assertEquals(0.1 - 0.3, centroids[0], 1e-12);
        assertEquals(1 + 0.5 - 0.1, centroids[1], 1e-12);
    }

    static FineTuning fineTuning(Optimizer optimizer, double lr) {
        TrainingSpec spec = new TrainingSpec(1, 32, optimizer, lr, new LearningRateSchedule.Constant(), 0);
        return new FineTuning(s -> NetworkFactory.build(s, TinyData.flat(20), spec.updater(), 0, 3), spec,
                TRAIN.features(), TRAIN.oneHot(), VALIDATION, 3, List.of());
    }

    @Test
    void everySchemeKeepsPrunedZerosThroughFineTuningAndEndsQuantized() {
        MultiLayerNetwork pruned = trained(0.7);
        float[] before = PackedModelFile.values(pruned.getParam("0_W"));
        QuantSettings[] all = {
            new QuantSettings(QuantSettings.Scheme.KMEANS, 3, false, true, QuantSettings.Calibration.MINMAX, 99.99, 2,
                    QuantSettings.Init.LINEAR, 2, false, false),
            new QuantSettings(QuantSettings.Scheme.BINARY, 1, true, true, QuantSettings.Calibration.MINMAX, 99.99, 2,
                    QuantSettings.Init.LINEAR, 2, false, false),
            new QuantSettings(QuantSettings.Scheme.INT8, 8, true, true, QuantSettings.Calibration.PERCENTILE, 99.9, 2,
                    QuantSettings.Init.LINEAR, 2, true, false)};
        for (QuantSettings s : all) {
            boolean kmeans = s.scheme() == QuantSettings.Scheme.KMEANS;
            Quantization.Outcome o = new Quantization(s, fineTuning(kmeans ? Optimizer.SGD : Optimizer.ADAM,
                    1e-3)).run(pruned, SPEC);
            float[] w = PackedModelFile.values(o.net().getParam("0_W"));
            QuantizedTensor t = o.tensors().stream().filter(q -> q.key().equals("0_W")).findFirst().orElseThrow();
            for (int i = 0; i < w.length; i++) {
                if (before[i] == 0) {
                    assertEquals(0f, w[i], s.scheme() + ": pruned weight " + i);
                }
            }
            assertEquals(java.util.Arrays.toString(t.dequantize()), java.util.Arrays.toString(w),
                    s.scheme() + ": the network's weights are the stored tensor's values");
            assertTrue(Accuracy.of(o.net(), VALIDATION) > 0.8, s.scheme() + ": " + Accuracy.of(o.net(), VALIDATION));
            assertEquals(s.scheme() == QuantSettings.Scheme.INT8 ? 2 : 0, o.activations().size(), s.scheme()
                    + ": activation ranges for the integer path");
        }
    }
}
