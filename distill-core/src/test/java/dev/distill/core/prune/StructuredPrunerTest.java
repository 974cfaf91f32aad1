package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Removing neurons and filters that were already dead (zero incoming weights and bias, so ReLU
 * outputs 0) must not change what the network computes; the rebuilt network is smaller.
 */
class StructuredPrunerTest {

    static Function<ModelSpec, MultiLayerNetwork> builder(InputShape input) {
        return spec -> NetworkFactory.build(spec, input, new Adam(1e-3), 0, 11);
    }

    static void assertSameOutputs(MultiLayerNetwork a, MultiLayerNetwork b, INDArray x) {
        INDArray ya = a.output(x, false);
        INDArray yb = b.output(x, false);
        assertTrue(ya.equalsWithEps(yb, 1e-5), "outputs differ: " + ya + " vs " + yb);
    }

    @Test
    void deadDenseNeuronsAreRemovedAndTheOutputsStayTheSame() {
        // an image input read by a dense layer, as the digits MLP does (flat inputs: PruningTest)
        InputShape input = InputShape.image(2, 3, 1);
        ModelSpec spec = new ModelSpec(List.of(new LayerSpec.Dense(8, Activation.RELU),
                new LayerSpec.Dense(5, Activation.RELU), new LayerSpec.Output(3)));
        MultiLayerNetwork net = builder(input).apply(spec);
        for (int dead : new int[] {1, 4, 6}) {
            net.getParam("0_W").get(NDArrayIndex.all(), NDArrayIndex.point(dead)).assign(0);
            net.getParam("0_b").putScalar(dead, 0);
        }
        net.getParam("1_W").get(NDArrayIndex.all(), NDArrayIndex.point(2)).assign(0);
        net.getParam("1_b").putScalar(2, 0);
        StructuredPruner.Result r = StructuredPruner.prune(net, spec, input, 0.375, Map.of("dense_1", 0.2),
                StructuredPruner.Norm.L1, builder(input));
        assertArrayEquals(new int[] {0, 2, 3, 5, 7}, r.kept().get("dense_0"));
        assertArrayEquals(new int[] {0, 1, 3, 4}, r.kept().get("dense_1"));
        assertEquals(new LayerSpec.Dense(5, Activation.RELU), r.spec().layers().get(0));
        assertEquals(new LayerSpec.Dense(4, Activation.RELU), r.spec().layers().get(1));
        assertArrayEquals(new long[] {5, 4}, r.net().getParam("1_W").shape(), "the next layer's inputs shrink");
        assertEquals(6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3, r.net().numParams());
        assertSameOutputs(net, r.net(), Nd4j.rand(DataType.FLOAT, 20, 6).subi(0.5).muli(4));
    }

    @Test
    void deadConvFiltersAreRemovedWithTheirBlockOfTheFlattenedMapAndBatchNormChannels() {
        InputShape input = InputShape.image(6, 6, 2);
        ModelSpec spec = new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.BatchNorm(), new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
                new LayerSpec.Conv2d(3, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Dense(7, Activation.RELU), new LayerSpec.Output(3)));
        MultiLayerNetwork net = builder(input).apply(spec);
        // filter 2 of the first conv is dead; batch norm then maps it to its beta, so zero that too
        net.getParam("0_W").get(NDArrayIndex.point(2), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                .assign(0);
        net.getParam("0_b").putScalar(2, 0);
        net.getParam("1_beta").putScalar(2, 0);
        // filter 0 of the second conv is dead
        net.getParam("3_W").get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                .assign(0);
        net.getParam("3_b").putScalar(0, 0);
        StructuredPruner.Result r = StructuredPruner.prune(net, spec, input, 0.25, Map.of("conv2d_3", 0.34, "dense_4", 0.0),
                StructuredPruner.Norm.L2, builder(input));
        assertArrayEquals(new int[] {0, 1, 3}, r.kept().get("conv2d_0"));
        assertArrayEquals(new int[] {1, 2}, r.kept().get("conv2d_3"));
        assertArrayEquals(new long[] {2, 3, 3, 3}, r.net().getParam("3_W").shape());
        assertArrayEquals(new long[] {2 * 3 * 3, 7}, r.net().getParam("4_W").shape(), "2 channels of 3x3 flattened");
        assertSameOutputs(net, r.net(), Nd4j.rand(DataType.FLOAT, 5, 72));
    }

    @Test
    void theStrongestUnitsAreKeptAndAtLeastOne() {
        INDArray w = Nd4j.createFromArray(new float[][] {{1, -5, 0.5f}, {1, 5, 0.5f}});
        assertArrayEquals(new int[] {0, 1}, StructuredPruner.strongest(w, 1, 0.34, StructuredPruner.Norm.L1));
        assertArrayEquals(new int[] {1}, StructuredPruner.strongest(w, 1, 0.99, StructuredPruner.Norm.L2));
    }

    @Test
    void depthwiseModelsAreRefusedNamingTheLayer() {
        ModelSpec spec = new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.DepthwiseConv2d(3, 1, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Output(3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StructuredPruner.check(spec));
        assertTrue(e.getMessage().contains("depthwise_conv2d_1"), e.getMessage());
    }
}
