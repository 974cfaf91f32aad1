package dev.distill.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.build.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.Dropout;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** The plain-array runtime gives DL4J's outputs for every activation a spec can name. */
class DenseRuntimeTest {

    private static MultiLayerNetwork network(Activation activation) {
        ModelSpec spec = new ModelSpec(List.of(new Dense(16, activation), new Dropout(0.3), new Dense(8, activation),
                new Output(3)));
        MultiLayerNetwork net = NetworkFactory.build(spec, InputShape.flat(12), new Adam(1e-3), 0, 5);
        // larger weights than the initialisation, so that every activation's nonlinear part is reached
        net.params().muli(3);
        return net;
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void outputsEqualDl4jsForEveryActivation(Activation activation) {
        MultiLayerNetwork net = network(activation);
        DenseRuntime runtime = DenseRuntime.compile(net);
        Nd4j.getRandom().setSeed(3);
        INDArray inputs = Nd4j.randn(DataType.FLOAT, 50, 12);
        INDArray expected = net.output(inputs, false);
        for (int i = 0; i < 50; i++) {
            float[] out = runtime.output(inputs.getRow(i).toFloatVector());
            for (int c = 0; c < 3; c++) {
                assertEquals(expected.getFloat(i, c), out[c], 2e-6, activation + " example " + i + " class " + c);
            }
            assertEquals(Nd4j.argMax(expected.getRow(i)).getInt(0), runtime.predict(inputs.getRow(i).toFloatVector()));
        }
        assertEquals(12, runtime.inputSize());
        assertEquals(3, runtime.outputSize());
    }

    @Test
    void convolutionalNetworksAreRefusedNamingTheLayer() {
        MultiLayerNetwork cnn = NetworkFactory.build(new ModelSpec(List.of(
                new Conv2d(2, 3, 1, Padding.SAME, Activation.RELU), new Output(3))), InputShape.image(4, 4, 1),
                new Adam(1e-3), 0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DenseRuntime.compile(cnn));
        assertTrue(e.getMessage().startsWith("layer 0 (ConvolutionLayer) is not a dense layer"), e.getMessage());
    }

    @Test
    void wrongInputLengthIsRefused() {
        DenseRuntime runtime = DenseRuntime.compile(network(Activation.RELU));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> runtime.output(new float[11]));
        assertEquals("expected 12 inputs, got 11", e.getMessage());
    }
}
