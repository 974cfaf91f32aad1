package dev.distill.models.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shape walk of {@link ModelSpec#cost}: parameter and multiply-add counts against hand-computed
 * values for the Fashion-MNIST protocol models, per-layer output shapes, and the specs it must
 * reject (naming the layer). DL4J's own counts are checked in {@code NetworkFactoryTest}.
 */
class ModelSpecTest {

    private static final InputShape FASHION = InputShape.image(28, 28, 1);

    /** The Fashion-MNIST teacher's architecture with the widths as parameters (teacher 32/64/256, assistant 16/32/64). */
    static ModelSpec fashionCnn(int filters1, int filters2, int dense) {
        return new ModelSpec(List.of(
                new Conv2d(filters1, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Conv2d(filters2, 3, 1, Padding.SAME, Activation.RELU),
                new Pool(PoolType.MAX, 2, 2),
                new Dense(dense, Activation.RELU),
                new Output(10)));
    }

    @Test
    void fashionMnistTeacherHas824458ParamsAndHandCountedMultiplyAdds() {
        ModelCost cost = fashionCnn(32, 64, 256).cost(FASHION, 10);
        assertEquals(824_458, cost.params());
        assertEquals(28L * 28 * 32 * 9 + 14L * 14 * 64 * 9 * 32 + 3136L * 256 + 256 * 10, cost.multiplyAdds());
        // per layer: conv 3x3x1x32 + 32; pool none; conv 3x3x32x64 + 64; dense 3136x256 + 256; output 256x10 + 10
        assertEquals(List.of(320L, 0L, 18_496L, 0L, 803_072L, 2_570L),
                cost.layers().stream().map(LayerCost::params).toList());
        assertEquals(List.of(28L * 28 * 32 * 9, 0L, 14L * 14 * 64 * 9 * 32, 0L, 3136L * 256, 2560L),
                cost.layers().stream().map(LayerCost::multiplyAdds).toList());
    }

    @Test
    void fashionMnistTeacherLayersHaveTheExpectedOutputShapesTypesAndIndices() {
        ModelCost cost = fashionCnn(32, 64, 256).cost(FASHION, 10);
        assertEquals(List.of("28x28x32", "14x14x32", "14x14x64", "7x7x64", "256", "10"),
                cost.layers().stream().map(LayerCost::outputShape).toList());
        assertEquals(List.of("conv2d", "max_pool", "conv2d", "max_pool", "dense", "output"),
                cost.layers().stream().map(LayerCost::type).toList());
        for (int i = 0; i < cost.layers().size(); i++) {
            assertEquals(i, cost.layers().get(i).index());
        }
    }

    @Test
    void fashionMnistAssistantHas105866Params() {
        ModelCost cost = fashionCnn(16, 32, 64).cost(FASHION, 10);
        assertEquals(105_866, cost.params());
        assertEquals(28L * 28 * 16 * 9 + 14L * 14 * 32 * 9 * 16 + 1568L * 64 + 64 * 10, cost.multiplyAdds());
    }

    @Test
    void mlpStudentOnFlat784Has25450Params() {
        ModelSpec student = new ModelSpec(List.of(new Dense(32, Activation.RELU), new Output(10)));
        ModelCost cost = student.cost(InputShape.flat(784), 10);
        assertEquals(25_450, cost.params());
        assertEquals(784 * 32 + 32 * 10, cost.multiplyAdds());
        assertEquals(List.of("32", "10"), cost.layers().stream().map(LayerCost::outputShape).toList());
        // the same MLP on the image-shaped input flattens it: same counts
        assertEquals(25_450, student.cost(FASHION, 10).params());
    }

    @Test
    void everyLayerTypeHasHandCountedParamsMultiplyAddsAndShapes() {
        ModelSpec spec = new ModelSpec(List.of(
                new Conv2d(4, 3, 2, Padding.SAME, Activation.RELU),         // 9x9x2 -> 5x5x4
                new BatchNorm(),                                             // 5x5x4
                new LayerSpec.Activate(Activation.RELU),                     // 5x5x4
                new DepthwiseConv2d(3, 2, 1, Padding.VALID, Activation.RELU6), // -> 3x3x8
                new SeparableConv2d(6, 2, 1, 1, Padding.VALID, Activation.TANH), // -> 2x2x6
                new Dropout(0.5),
                new Pool(PoolType.AVG, 2, 1),                                // -> 1x1x6
                new GlobalPool(PoolType.MAX),                                // -> 6
                new Dense(5, Activation.ELU),
                new BatchNorm(),                                             // flat: 4 x 5
                new Output(3)));
        ModelCost cost = spec.cost(InputShape.image(9, 9, 2), 3);
        assertEquals(List.of("5x5x4", "5x5x4", "5x5x4", "3x3x8", "2x2x6", "2x2x6", "1x1x6", "6", "5", "5", "3"),
                cost.layers().stream().map(LayerCost::outputShape).toList());
        assertEquals(List.of(
                        3L * 3 * 2 * 4 + 4,       // conv
                        4L * 4,                   // batch norm: gamma, beta, mean, variance per channel
                        0L,                       // activation
                        3L * 3 * 8 + 8,           // depthwise: 4 channels x multiplier 2
                        2L * 2 * 8 + 8 * 6 + 6,   // separable: depthwise 2x2x8, pointwise 8x6, one bias
                        0L, 0L, 0L,
                        6L * 5 + 5,
                        4L * 5,
                        5L * 3 + 3),
                cost.layers().stream().map(LayerCost::params).toList());
        assertEquals(List.of(
                        25L * 3 * 3 * 2 * 4,
                        25L * 4,
                        0L,
                        9L * 3 * 3 * 8,
                        4L * (2 * 2 * 8 + 8 * 6),
                        0L, 0L, 0L,
                        30L,
                        5L,
                        15L),
                cost.layers().stream().map(LayerCost::multiplyAdds).toList());
        assertEquals(cost.layers().stream().mapToLong(LayerCost::params).sum(), cost.params());
    }

    @Test
    void samePaddingWithStrideRoundsUpAndValidPaddingRoundsDown() {
        ModelSpec same = new ModelSpec(List.of(new Conv2d(2, 3, 2, Padding.SAME, Activation.RELU), new Output(2)));
        assertEquals("4x4x2", same.cost(InputShape.image(7, 7, 1), 2).layers().get(0).outputShape());
        ModelSpec valid = new ModelSpec(List.of(new Conv2d(2, 3, 2, Padding.VALID, Activation.RELU), new Output(2)));
        assertEquals("3x3x2", valid.cost(InputShape.image(7, 7, 1), 2).layers().get(0).outputShape());
        ModelSpec pool = new ModelSpec(List.of(new Pool(PoolType.MAX, 2, 2), new Output(2)));
        assertEquals("3x2x1", pool.cost(InputShape.image(7, 5, 1), 2).layers().get(0).outputShape());
    }

    @Test
    void convolutionOnAFlatInputIsRejectedNamingTheLayer() {
        ModelSpec first = new ModelSpec(List.of(new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU), new Output(10)));
        SpecException e = assertThrows(SpecException.class, () -> first.cost(InputShape.flat(784), 10));
        assertEquals(0, e.layerIndex());
        assertTrue(e.getMessage().contains("image input"), e.getMessage());
        assertTrue(e.getMessage().contains("conv2d"), e.getMessage());

        // a dense layer flattens the image: a convolution after it has no image to work on
        ModelSpec afterDense = new ModelSpec(List.of(new Dense(8, Activation.RELU),
                new DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.RELU), new Output(3)));
        SpecException e2 = assertThrows(SpecException.class, () -> afterDense.cost(InputShape.image(8, 8, 1), 3));
        assertEquals(1, e2.layerIndex());
        assertTrue(e2.getMessage().contains("image input"), e2.getMessage());

        ModelSpec globalPool = new ModelSpec(List.of(new Dense(8, Activation.RELU), new BatchNorm(),
                new GlobalPool(PoolType.AVG), new Output(3)));
        SpecException e3 = assertThrows(SpecException.class, () -> globalPool.cost(InputShape.flat(4), 3));
        assertEquals(2, e3.layerIndex());
        assertTrue(e3.getMessage().contains("image input"), e3.getMessage());
    }

    @Test
    void kernelLargerThanItsMapWithValidPaddingIsRejected() {
        ModelSpec conv = new ModelSpec(List.of(new Conv2d(4, 5, 1, Padding.VALID, Activation.RELU), new Output(3)));
        SpecException e = assertThrows(SpecException.class, () -> conv.cost(InputShape.image(4, 6, 1), 3));
        assertEquals(0, e.layerIndex());
        assertTrue(e.getMessage().contains("larger than its input"), e.getMessage());

        // the same kernel with same padding is fine
        ModelSpec same = new ModelSpec(List.of(new Conv2d(4, 5, 1, Padding.SAME, Activation.RELU), new Output(3)));
        assertEquals("4x6x4", same.cost(InputShape.image(4, 6, 1), 3).layers().get(0).outputShape());

        // pooling shrinks the map until a later window no longer fits: that later layer is named
        ModelSpec pools = new ModelSpec(List.of(new Pool(PoolType.MAX, 2, 2), new Pool(PoolType.MAX, 2, 2),
                new Pool(PoolType.AVG, 2, 2), new Output(3)));
        SpecException e2 = assertThrows(SpecException.class, () -> pools.cost(InputShape.image(6, 6, 1), 3));
        assertEquals(2, e2.layerIndex());
        assertTrue(e2.getMessage().contains("avg_pool"), e2.getMessage());
    }

    @Test
    void outputClassesDifferentFromTheDataClassesAreRejected() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(8, Activation.RELU), new Output(3)));
        SpecException e = assertThrows(SpecException.class, () -> spec.cost(InputShape.flat(4), 10));
        assertEquals(1, e.layerIndex());
        assertTrue(e.getMessage().contains("classes: 10"), e.getMessage());
        assertEquals(3, spec.classes());
    }

    @Test
    void outputLayerMustBeLastAndOnlyLast() {
        SpecException missing = assertThrows(SpecException.class,
                () -> new ModelSpec(List.of(new Dense(8, Activation.RELU))));
        assertEquals(0, missing.layerIndex());
        SpecException early = assertThrows(SpecException.class,
                () -> new ModelSpec(List.of(new Output(3), new Dense(8, Activation.RELU), new Output(3))));
        assertEquals(0, early.layerIndex());
        assertTrue(early.getMessage().contains("last"), early.getMessage());
        SpecException empty = assertThrows(SpecException.class, () -> new ModelSpec(List.of()));
        assertEquals(-1, empty.layerIndex());
    }

    @ParameterizedTest(name = "rate {0}")
    @ValueSource(doubles = {0.0, 1.0, -0.1, 1.5, Double.NaN})
    void dropoutRateOutsideTheOpenUnitIntervalIsRejected(double rate) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dropout(rate));
        assertTrue(e.getMessage().contains("(0, 1)"), e.getMessage());
    }

    @Test
    void dropoutRateInsideTheUnitIntervalIsAccepted() {
        assertEquals(0.001, new Dropout(0.001).rate());
        assertEquals(0.999, new Dropout(0.999).rate());
    }

    @Test
    void nonPositiveSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Dense(0, Activation.RELU));
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(4, 0, 1, Padding.SAME, Activation.RELU));
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(4, 3, 0, Padding.SAME, Activation.RELU));
        assertThrows(IllegalArgumentException.class, () -> new Pool(PoolType.MAX, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Output(1));
        assertThrows(IllegalArgumentException.class, () -> InputShape.image(0, 28, 1));
        assertThrows(IllegalArgumentException.class, () -> new InputShape(2, 2, 1, false));
    }
}
