package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Dense layers whose backward pass reuses the forward pass's activations and, first in a network, skips the input's
 * gradient: the network trains to DL4J's own bits (an MLP, a deeper MLP, a CNN whose dense layer follows a
 * preprocessor), its files do not change, and layers it cannot compute the same way are left to DL4J.
 */
class LeanDenseBackpropTest {

    private static final InputShape IMAGE = InputShape.image(6, 6, 1);

    private static Network build(List<LayerSpec> layers) {
        return Networks.build(new ModelSpec(layers), IMAGE, new Adam(5e-3), 1e-4, 9, new LossMCXENT());
    }

    private static List<DataSet> batches() {
        Nd4j.getRandom().setSeed(4);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < 15; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 20, IMAGE.size()).subi(0.5);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 20, 3);
            for (int r = 0; r < 20; r++) {
                y.putScalar(r, x.getDouble(r, 0) > 0 ? 0 : x.getDouble(r, 1) > 0 ? 1 : 2, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    private static byte[] file(Network net) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net.model(), bytes, true);
        return bytes.toByteArray();
    }

    @Test
    void aNetworkWithLeanDenseLayersTrainsToDl4jsOwnBitsAndWritesTheSameFile() throws Exception {
        List<List<LayerSpec>> shapes = List.of(
                List.of(new LayerSpec.Dense(16, Activation.RELU), new LayerSpec.Output(3)),
                List.of(new LayerSpec.Dense(16, Activation.RELU), new LayerSpec.Dense(8, Activation.IDENTITY),
                        new LayerSpec.Dense(8, Activation.RELU), new LayerSpec.Output(3)),
                List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                        new LayerSpec.Dense(12, Activation.RELU), new LayerSpec.Output(3)));
        int[] expected = {1, 3, 1};
        for (int s = 0; s < shapes.size(); s++) {
            Network own = build(shapes.get(s));
            Network lean = build(shapes.get(s));
            assertEquals(expected[s], LeanDenseBackprop.install(lean), "shape " + s);
            assertEquals(expected[s], LeanDenseBackprop.install(lean), "installing again changes nothing");
            INDArray before = lean.params().dup();
            for (DataSet b : batches()) {
                own.fit(b);
                lean.fit(b);
                assertEquals(own.score(), lean.score(), 0.0);
            }
            assertFalse(Arrays.equals(before.toFloatVector(), lean.params().toFloatVector()), "it trained");
            for (org.deeplearning4j.nn.api.Layer layer : lean.layers()) {
                if (layer instanceof LeanDenseBackprop l) {
                    assertEquals(15, l.reusedActivations(), "every step reused the forward pass's activations");
                }
            }
            assertArrayEquals(own.params().toFloatVector(), lean.params().toFloatVector(), 0f, "shape " + s);
            INDArray probe = batches().get(0).getFeatures();
            assertArrayEquals(own.output(probe).ravel().toFloatVector(), lean.output(probe).ravel().toFloatVector(), 0f);
            assertArrayEquals(file(own), file(lean), "the model file does not name the lean layers");
        }
    }

    @Test
    void layersItCannotComputeTheSameWayAreLeftToDl4j() {
        Network sigmoid = build(List.of(new LayerSpec.Dense(8, Activation.SIGMOID), new LayerSpec.Output(3)));
        Network dropout = build(List.of(new LayerSpec.Dense(8, Activation.RELU), new LayerSpec.Dropout(0.2),
                new LayerSpec.Output(3)));
        assertEquals(0, LeanDenseBackprop.install(sigmoid));
        assertEquals(0, LeanDenseBackprop.install(dropout), "the next layer's dropout may change the activations");
        MultiLayerNetwork mln = ((Network.Sequential) dropout).net();
        assertSame(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, mln.getLayer(0).getClass());
    }
}
