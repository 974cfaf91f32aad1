package dev.distill.models.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.build.NetworkFactory;
import dev.distill.models.spec.LayerSpec.BatchNorm;
import dev.distill.models.spec.LayerSpec.Conv2d;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.DepthwiseConv2d;
import dev.distill.models.spec.LayerSpec.Dropout;
import dev.distill.models.spec.LayerSpec.GlobalPool;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.Pool;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.LayerSpec.SeparableConv2d;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** Parameter and multiply-add counts against hand-computed values, and against DL4J's own count. */
class ModelCostTest {

    static ModelSpec fashionTeacher(int f1, int f2, int dense) {
        return new ModelSpec(List.of(
                new Conv2d(f1, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Conv2d(f2, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Dense(dense, Activation.RELU),
                new Output(10)));
    }

    @Test
    void fashionMnistProtocolModelsHaveThePublishedParameterCounts() {
        InputShape image = InputShape.image(28, 28, 1);
        ModelCost teacher = fashionTeacher(32, 64, 256).cost(image, 10);
        assertEquals(824_458, teacher.params());
        assertEquals(28L * 28 * 32 * 9 + 14L * 14 * 64 * 9 * 32 + 3136L * 256 + 256 * 10, teacher.multiplyAdds());
        assertEquals("7x7x64", teacher.layers().get(3).outputShape());
        assertEquals(105_866, fashionTeacher(16, 32, 64).cost(image, 10).params());
        ModelSpec student = new ModelSpec(List.of(new Dense(32, Activation.RELU), new Output(10)));
        ModelCost mlp = student.cost(InputShape.flat(784), 10);
        assertEquals(25_450, mlp.params());
        assertEquals(784 * 32 + 32 * 10, mlp.multiplyAdds());
    }

    @Test
    void everyLayerTypeCountsWhatDl4jAllocates() {
        ModelSpec spec = new ModelSpec(List.of(
                new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU),
                new BatchNorm(),
                new DepthwiseConv2d(3, 2, 1, Padding.SAME, Activation.RELU6),
                new SeparableConv2d(6, 3, 1, 2, Padding.SAME, Activation.RELU),
                new Pool(PoolType.AVG, 2, 2),
                new Dropout(0.25),
                new Conv2d(5, 2, 1, Padding.VALID, Activation.TANH),
                new GlobalPool(PoolType.MAX),
                new Dense(7, Activation.RELU),
                new Output(3)));
        InputShape input = InputShape.image(10, 10, 2);
        ModelCost cost = spec.cost(input, 3);
        MultiLayerNetwork net = NetworkFactory.build(spec, input, new Adam(1e-3), 0, 1);
        assertEquals(net.numParams(), cost.params());
        // separable stride 2 on 10x10 same -> 5x5; avg pool 2 -> 2x2; valid conv 2 -> 1x1
        assertEquals("5x5x6", cost.layers().get(3).outputShape());
        assertEquals("1x1x5", cost.layers().get(6).outputShape());
        // hand count of the depthwise layer: 10*10 positions x (4 channels x 2) x 3x3
        assertEquals(10L * 10 * 8 * 9, cost.layers().get(2).multiplyAdds());
        // separable: 5x5 positions x (depthwise 8x1x9 + pointwise 8x6)
        assertEquals(25L * (8 * 9 + 8 * 6), cost.layers().get(3).multiplyAdds());
        INDArray out = net.output(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, input.size()));
        assertEquals(4, out.rows());
        assertEquals(3, out.columns());
        assertEquals(4.0, out.sumNumber().doubleValue(), 1e-4);
    }

    @Test
    void sameSeedBuildsTheSameNetwork() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(8, Activation.RELU), new Output(3)));
        InputShape input = InputShape.flat(5);
        assertEquals(NetworkFactory.build(spec, input, new Adam(1e-3), 0, 9).params(),
                NetworkFactory.build(spec, input, new Adam(1e-3), 0, 9).params());
        assertTrue(!NetworkFactory.build(spec, input, new Adam(1e-3), 0, 9).params()
                .equals(NetworkFactory.build(spec, input, new Adam(1e-3), 0, 10).params()));
    }

    @Test
    void convolutionOnAFlatInputNamesTheLayer() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(8, Activation.RELU),
                new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU), new Output(3)));
        SpecException e = assertThrows(SpecException.class, () -> spec.cost(InputShape.image(8, 8, 1), 3));
        assertEquals(1, e.layerIndex());
        assertTrue(e.getMessage().contains("image input"), e.getMessage());
    }

    @Test
    void kernelLargerThanItsMapIsRejected() {
        ModelSpec spec = new ModelSpec(List.of(new Conv2d(4, 5, 1, Padding.VALID, Activation.RELU), new Output(3)));
        SpecException e = assertThrows(SpecException.class, () -> spec.cost(InputShape.image(4, 4, 1), 3));
        assertEquals(0, e.layerIndex());
        assertTrue(e.getMessage().contains("larger than its input"), e.getMessage());
    }

    @Test
    void outputSizeMustMatchTheClasses() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(8, Activation.RELU), new Output(3)));
        SpecException e = assertThrows(SpecException.class, () -> spec.cost(InputShape.flat(4), 10));
        assertEquals(1, e.layerIndex());
        assertTrue(e.getMessage().contains("classes: 10"), e.getMessage());
    }

    @Test
    void outputLayerMustBeLastAndOnlyLast() {
        assertThrows(SpecException.class, () -> new ModelSpec(List.of(new Dense(8, Activation.RELU))));
        assertThrows(SpecException.class, () -> new ModelSpec(List.of(new Output(3), new Output(3))));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0));
        assertThrows(IllegalArgumentException.class, () -> new Dense(0, Activation.RELU));
    }
}
