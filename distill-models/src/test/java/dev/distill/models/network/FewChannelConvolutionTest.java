package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Convolutions over few input channels computed in Java: the same outputs, gradients (of the parameters and of the
 * input) and training as DL4J's layers up to float rounding, the same bits run to run, the same model file, and
 * the layers it does not cover left to DL4J.
 */
class FewChannelConvolutionTest {

    /** Grey 12x12 images: a 1 -> 8 ReLU layer behind DL4J's reshaping preprocessor, then pooling and dense layers. */
    private static final InputShape GREY = InputShape.image(12, 12, 1);
    private static final List<LayerSpec> GREY_NET = List.of(
            new LayerSpec.Conv2d(8, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
            new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
            new LayerSpec.Dense(16, Activation.RELU, true), new LayerSpec.Output(3));
    /**
     * Two-channel 9x9 images: a 2 -> 3 layer, then an unpadded 5x5 3 -> 4 identity layer without bias and a 4 -> 6 layer,
     * which hand their input gradients back, then a 6 -> 5 layer DL4J keeps.
     */
    private static final InputShape TWO_CHANNEL = InputShape.image(9, 9, 2);
    private static final List<LayerSpec> TWO_CHANNEL_NET = List.of(
            new LayerSpec.Conv2d(3, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
            new LayerSpec.Conv2d(4, 5, 1, LayerSpec.Padding.VALID, Activation.IDENTITY, false),
            new LayerSpec.Conv2d(6, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
            new LayerSpec.Conv2d(5, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
            new LayerSpec.Output(3));

    private static Network build(List<LayerSpec> layers, InputShape input) {
        return Networks.build(new ModelSpec(layers), input, new Adam(5e-3), 1e-4, 9, new LossMCXENT());
    }

    private static List<DataSet> batches(InputShape input) {
        Nd4j.getRandom().setSeed(4);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < 12; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 20, input.size());
            INDArray y = Nd4j.zeros(DataType.FLOAT, 20, 3);
            for (int r = 0; r < 20; r++) {
                double bright = x.getDouble(r, 0) + x.getDouble(r, 1) - x.getDouble(r, input.size() - 1);
                y.putScalar(r, bright > 1.2 ? 0 : bright > 0.5 ? 1 : 2, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    private static MultiLayerNetwork mln(Network net) {
        return ((Network.Sequential) net).net();
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        float[] e = expected.ravel().toFloatVector();
        float[] a = actual.ravel().toFloatVector();
        assertEquals(e.length, a.length, what);
        double scale = 0;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tolerance * Math.max(scale, 1e-3), what + " [" + i + "]");
        }
    }

    private static byte[] file(Network net) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net.model(), bytes, true);
        return bytes.toByteArray();
    }

    @Test
    void outputsAndGradientsOfParametersAndInputAreDl4jsUpToRounding() {
        record Case(List<LayerSpec> layers, InputShape input, int installed) { }
        for (Case c : List.of(new Case(GREY_NET, GREY, 1), new Case(TWO_CHANNEL_NET, TWO_CHANNEL, 3))) {
            Network own = build(c.layers(), c.input());
            Network java = build(c.layers(), c.input());
            assertEquals(c.installed(), FewChannelConvolution.install(java));
            assertEquals(c.installed(), FewChannelConvolution.install(java), "installing again changes nothing");
            DataSet batch = batches(c.input()).get(0);
            assertClose(own.output(batch.getFeatures()), java.output(batch.getFeatures()), 1e-5, "output");
            var ownGradients = mln(own).calculateGradients(batch.getFeatures(), batch.getLabels(), null, null);
            var javaGradients = mln(java).calculateGradients(batch.getFeatures(), batch.getLabels(), null, null);
            assertClose(ownGradients.getFirst().gradient(), javaGradients.getFirst().gradient(), 1e-5, "parameters");
            assertClose(ownGradients.getSecond(), javaGradients.getSecond(), 1e-5, "input gradient");
            for (Layer layer : mln(java).getLayers()) {
                if (layer instanceof FewChannelConvolution f) {
                    assertEquals(1, f.javaBackwardPasses(), "the backward pass was computed in Java");
                }
            }
        }
    }

    @Test
    void aNetworkTrainsAsDl4jsUpToRoundingTheSameBitsEveryRunAndWritesTheSameFile() throws Exception {
        Network own = build(GREY_NET, GREY);
        Network java = build(GREY_NET, GREY);
        Network again = build(GREY_NET, GREY);
        FewChannelConvolution.install(java);
        FewChannelConvolution.install(again);
        INDArray before = java.params().dup();
        for (DataSet b : batches(GREY)) {
            own.fit(b);
            java.fit(b);
            again.fit(b);
            assertEquals(own.score(), java.score(), 1e-5 * Math.abs(own.score()));
        }
        assertFalse(Arrays.equals(before.toFloatVector(), java.params().toFloatVector()), "it trained");
        assertEquals(12, ((FewChannelConvolution) mln(java).getLayer(0)).javaBackwardPasses());
        assertClose(own.params(), java.params(), 1e-4, "parameters after 12 steps");
        assertArrayEquals(java.params().toFloatVector(), again.params().toFloatVector(), 0f, "run to run");
        assertNotEquals(0.0, own.params().sub(java.params()).norm1Number().doubleValue(),
                "the sums run in another order than oneDNN's (if this fails, the layer was not the one computing)");
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(
                new java.io.ByteArrayInputStream(file(java)), true);
        assertEquals(mln(own).getLayerWiseConfigurations().toJson(), restored.getLayerWiseConfigurations().toJson(),
                "the model file does not name the Java layer");
        assertArrayEquals(java.params().toFloatVector(), restored.params().toFloatVector(), 0f);
    }

    @Test
    void closingTheSpeedUpPutsDl4jsOwnLayersBackWithTheStepCountsReached() {
        Network net = build(GREY_NET, GREY);
        Layer own = mln(net).getLayer(0);
        int steps;
        try (Networks.SpedUpLayers spedUp = Networks.speedUpTraining(net)) {
            assertInstanceOf(FewChannelConvolution.class, mln(net).getLayer(0));
            batches(GREY).forEach(net::fit);
            steps = mln(net).getLayer(0).getIterationCount();
            assertNotEquals(0, steps);
        }
        assertSame(own, mln(net).getLayer(0), "DL4J's layer object is back");
        assertEquals(steps, own.getIterationCount());
        Network plain = build(GREY_NET, GREY);
        plain.params().assign(net.params());
        INDArray probe = batches(GREY).get(0).getFeatures();
        assertArrayEquals(plain.output(probe).ravel().toFloatVector(), net.output(probe).ravel().toFloatVector(), 0f,
                "it computes as DL4J's network with the same parameters, bit for bit");
    }

    @Test
    void layersItDoesNotCoverAreLeftToDl4j() {
        Network wide = build(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
                new LayerSpec.Output(3)), InputShape.image(6, 6, FewChannelConvolution.MAX_INPUT_CHANNELS + 1));
        Network strided = build(List.of(new LayerSpec.Conv2d(4, 3, 2, LayerSpec.Padding.SAME, Activation.RELU, true),
                new LayerSpec.Output(3)), GREY);
        Network sigmoid = build(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.SIGMOID,
                true), new LayerSpec.Output(3)), GREY);
        for (Network net : List.of(wide, strided, sigmoid)) {
            assertEquals(0, FewChannelConvolution.install(net));
            assertSame(org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class, mln(net).getLayer(0).getClass());
        }
    }

    @Test
    void aBackwardPassAfterAnInferencePassIsLeftToDl4j() {
        Network own = build(GREY_NET, GREY);
        Network java = build(GREY_NET, GREY);
        mln(own).initGradientsView();
        FewChannelConvolution.install(java);
        Layer dl4j = mln(own).getLayer(0);
        FewChannelConvolution layer = (FewChannelConvolution) mln(java).getLayer(0);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 1, 12, 12);
        INDArray epsilon = Nd4j.rand(DataType.FLOAT, 5, 8, 12, 12).subi(0.5);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        for (Layer l : List.of(dl4j, layer)) {
            l.setInput(x, none);
            l.activate(true, none);
        }
        layer.activate(false, none);   // its activations are no longer the training pass's
        var expected = dl4j.backpropGradient(epsilon, none);
        var actual = layer.backpropGradient(epsilon, none);
        assertEquals(0, layer.javaBackwardPasses(), "DL4J computed it");
        assertClose(expected.getFirst().getGradientFor("W"), actual.getFirst().getGradientFor("W"), 1e-6, "weights");
        assertClose(expected.getSecond(), actual.getSecond(), 1e-6, "input gradient");
    }
}
