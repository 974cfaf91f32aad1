package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec.BatchNorm;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.Pool;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** oneDNN computes what DL4J's own conv path computes, and is what the project's build uses. */
class ConvBackendTest {

    /** Both paddings, a stride, max and average pooling, batch norm: the cases the helpers translate. */
    private static final ModelSpec CNN = new ModelSpec(List.of(
            new Conv2d(8, 3, 1, Padding.SAME, Activation.RELU),     // 12x12x3 -> 12x12x8
            new BatchNorm(),
            new Pool(PoolType.MAX, 2, 2),                             // -> 6x6x8
            new Conv2d(6, 3, 2, Padding.VALID, Activation.TANH),    // -> 2x2x6
            new Pool(PoolType.AVG, 2, 1),                             // -> 1x1x6
            new Dense(10, Activation.RELU),
            new Output(4)));
    /** Conv, pooling and batch-norm layers of {@link #CNN}. */
    private static final int MANAGED = 5;
    private static final InputShape IMAGE = InputShape.image(12, 12, 3);

    private static MultiLayerNetwork build(ConvBackend backend) {
        MultiLayerNetwork net = NetworkFactory.build(CNN, IMAGE, new Adam(1e-2), 0, 7);
        backend.apply(net);
        return net;
    }

    private static DataSet batch(long seed, int n) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, IMAGE.size());
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 4);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 7) % 4, 1f);
        }
        return new DataSet(x, y);
    }

    /** The same batches, in the same order, to both networks. */
    private static void fitSideBySide(MultiLayerNetwork a, MultiLayerNetwork b, int steps) {
        for (int step = 0; step < steps; step++) {
            DataSet data = batch(10 + step, 32);
            a.fit(data);
            b.fit(data);
        }
    }

    @Test
    void theProjectsNativeBuildHasOneDnnAndNewNetworksUseIt() {
        assertTrue(ConvBackend.oneDnnAvailable(), "nd4j-native build without oneDNN: check nd4j.classifier in pom.xml");
        assertEquals(ConvBackend.ONEDNN, ConvBackend.DEFAULT);
        MultiLayerNetwork net = NetworkFactory.build(CNN, IMAGE, new Adam(1e-2), 0, 7);
        assertEquals(MANAGED, ConvBackend.acceleratedLayers(net.getLayers()), "2 conv + 2 pooling + 2 batch-norm layers on oneDNN");
    }

    @Test
    void oneDnnGivesDl4jsOutputs() {
        INDArray x = batch(1, 16).getFeatures();
        INDArray viaDl4j = build(ConvBackend.DL4J).output(x);
        INDArray viaOneDnn = build(ConvBackend.ONEDNN).output(x);
        assertEquals(0, ConvBackend.acceleratedLayers(build(ConvBackend.DL4J).getLayers()));
        assertTrue(viaDl4j.equalsWithEps(viaOneDnn, 1e-5), "outputs differ: " + viaDl4j.sub(viaOneDnn).amax());
    }

    @Test
    void oneDnnTrainingFollowsDl4jsTraining() {
        MultiLayerNetwork dl4j = build(ConvBackend.DL4J);
        MultiLayerNetwork oneDnn = build(ConvBackend.ONEDNN);
        fitSideBySide(dl4j, oneDnn, 5);
        // float sums in a different order: the same training up to rounding, not bit for bit
        double maxDiff = dl4j.params().sub(oneDnn.params()).amaxNumber().doubleValue();
        assertTrue(maxDiff < 1e-4, "parameters after 5 Adam steps differ by " + maxDiff);
        assertEquals(MANAGED, ConvBackend.acceleratedLayers(oneDnn.getLayers()));
        assertEquals(0, ConvBackend.fallbacks(oneDnn.getLayers()), "a oneDNN helper failed and DL4J fell back");
        assertTrue(dl4j.params().sub(build(ConvBackend.DL4J).params()).amaxNumber().doubleValue() > 1e-3,
                "training must have moved the parameters for the comparison to mean anything");
    }

    /**
     * Batch norm on features (after a dense layer) as well as on images, compared by gradient rather
     * than after Adam steps: the dense bias feeding batch norm has a zero gradient by construction, and
     * Adam turns the two paths' different rounding of that zero into full learning-rate steps.
     */
    @Test
    void batchNormGradientsInTrainingModeAreDl4jsOnImagesAndOnFeatures() {
        ModelSpec spec = new ModelSpec(List.of(
                new Conv2d(8, 3, 1, Padding.SAME, Activation.RELU),
                new BatchNorm(),
                new Pool(PoolType.MAX, 2, 2),
                new Dense(12, Activation.RELU),
                new BatchNorm(),
                new Output(4)));
        MultiLayerNetwork dl4j = NetworkFactory.build(spec, IMAGE, new Adam(1e-2), 0, 7);
        ConvBackend.DL4J.apply(dl4j);
        MultiLayerNetwork oneDnn = NetworkFactory.build(spec, IMAGE, new Adam(1e-2), 0, 7);
        assertEquals(4, ConvBackend.acceleratedLayers(oneDnn.getLayers()), "conv, pooling and both batch norms");
        DataSet data = batch(3, 32);
        for (MultiLayerNetwork net : List.of(dl4j, oneDnn)) {
            net.setInput(data.getFeatures());
            net.setLabels(data.getLabels());
            net.computeGradientAndScore();
        }
        INDArray expected = dl4j.gradient().gradient();
        double maxDiff = expected.sub(oneDnn.gradient().gradient()).amaxNumber().doubleValue();
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(scale > 1e-3, "a gradient this small would compare nothing");
        assertTrue(maxDiff < 1e-5 * Math.max(1, scale), "gradients differ by " + maxDiff + " (largest " + scale + ")");
        assertEquals(dl4j.score(), oneDnn.score(), 1e-6);
        assertEquals(0, ConvBackend.fallbacks(oneDnn.getLayers()), "a oneDNN helper failed and DL4J fell back");
    }

    @Test
    void oneDnnTrainingRepeatsBitForBit() {
        MultiLayerNetwork first = build(ConvBackend.ONEDNN);
        MultiLayerNetwork second = build(ConvBackend.ONEDNN);
        fitSideBySide(first, second, 3);
        assertEquals(first.params(), second.params());
    }

    @Test
    void settingsNameTheAllowedValues() {
        assertEquals(ConvBackend.DL4J, ConvBackend.fromSetting(" DL4J "));
        assertEquals(ConvBackend.ONEDNN, ConvBackend.fromSetting("onednn"));
        assertEquals(ConvBackend.ONEDNN, ConvBackend.fromSetting("auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConvBackend.fromSetting("mkl"));
        assertTrue(e.getMessage().contains("'mkl'") && e.getMessage().contains("auto, onednn or dl4j"), e.getMessage());
    }
}
