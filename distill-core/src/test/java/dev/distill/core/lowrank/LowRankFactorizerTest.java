package dev.distill.core.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.function.Function;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Factorized networks: at full rank they compute what the original does; truncated, their weights
 * multiply back to the truncated matrix; their specs count the parameters and multiply-adds of the
 * smaller network built.
 */
class LowRankFactorizerTest {

    static final InputShape FLAT = TinyData.flat(10);
    static final InputShape IMAGE = InputShape.image(6, 6, 2);
    static final ModelSpec MLP = new ModelSpec(List.of(new LayerSpec.Dense(12, Activation.RELU),
            new LayerSpec.Dense(8, Activation.TANH), new LayerSpec.Output(3)));
    static final ModelSpec CNN = new ModelSpec(List.of(
            new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),   // 6x6x2 -> 6x6x4
            new LayerSpec.BatchNorm(),
            new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),                          // -> 3x3x4
            new LayerSpec.Dense(5, Activation.RELU), new LayerSpec.Output(3)));

    static Function<ModelSpec, MultiLayerNetwork> builder(InputShape input) {
        return spec -> NetworkFactory.build(spec, input, new Adam(1e-3), 0, 11);
    }

    /** A network with random parameters (not the initialiser's: biases and batch-norm statistics non-zero). */
    static MultiLayerNetwork randomized(ModelSpec spec, InputShape input) {
        MultiLayerNetwork net = builder(input).apply(spec);
        Nd4j.getRandom().setSeed(3);
        // DL4J keeps batch norm's spread as log10 of the standard deviation: any value is valid
        net.setParams(Nd4j.rand(DataType.FLOAT, net.numParams()).subi(0.5));
        return net;
    }

    static LowRankFactorizer.Result factorize(MultiLayerNetwork net, ModelSpec spec, InputShape input, int index,
            int rank) {
        return factorize(net, spec, input, index, LowRankSettings.Conv.FILTERS, rank);
    }

    static LowRankFactorizer.Result factorize(MultiLayerNetwork net, ModelSpec spec, InputShape input, int index,
            LowRankSettings.Conv conv, int rank) {
        LowRankFactorizer.LayerMatrix m = LowRankFactorizer.matrix(net, spec, index, conv);
        return LowRankFactorizer.factorize(net, spec, index, conv, TruncatedSvd.of(m.values()), rank, builder(input));
    }

    @Test
    void aDenseLayerAtFullRankComputesTheSameOutputs() {
        MultiLayerNetwork net = randomized(MLP, FLAT);
        INDArray before = net.params().dup();
        LowRankFactorizer.Result r = factorize(net, MLP, FLAT, 1, 8);
        assertEquals(List.of(new LayerSpec.Dense(12, Activation.RELU), new LayerSpec.Dense(8, Activation.IDENTITY, false),
                new LayerSpec.Dense(8, Activation.TANH), new LayerSpec.Output(3)), r.spec().layers());
        INDArray x = Nd4j.rand(DataType.FLOAT, 20, 10).subi(0.5).muli(4);
        assertTrue(net.output(x).equalsWithEps(r.net().output(x), 1e-5), "same outputs");
        assertEquals(before, net.params(), "the input network is not changed");
        assertNull(r.net().getLayer(1).getParam("b"), "the first factor has no bias");
    }

    @Test
    void aConvLayerAtFullRankComputesTheSameOutputs() {
        MultiLayerNetwork net = randomized(CNN, IMAGE);
        // 4 filters of 3x3x2: a 4 x 18 matrix, full rank 4
        LowRankFactorizer.Result r = factorize(net, CNN, IMAGE, 0, 4);
        assertEquals(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.IDENTITY, false),
                r.spec().layers().get(0));
        assertEquals(new LayerSpec.Conv2d(4, 1, 1, LayerSpec.Padding.SAME, Activation.RELU), r.spec().layers().get(1));
        INDArray x = Nd4j.rand(DataType.FLOAT, 7, 72);
        assertTrue(net.output(x).equalsWithEps(r.net().output(x), 1e-5), "same outputs, batch norm carried over");
    }

    @Test
    void aConvLayerSplitSpatiallyAtFullRankComputesTheSameOutputsWhateverItsStrideAndPadding() {
        for (int stride = 1; stride <= 2; stride++) {
            for (LayerSpec.Padding padding : LayerSpec.Padding.values()) {
                ModelSpec spec = new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, stride, padding, Activation.RELU),
                        new LayerSpec.BatchNorm(), new LayerSpec.Dense(5, Activation.RELU), new LayerSpec.Output(3)));
                MultiLayerNetwork net = randomized(spec, IMAGE);
                // (2 channels x 3 rows) x (4 filters x 3 columns): full rank 6
                LowRankFactorizer.Result r = factorize(net, spec, IMAGE, 0, LowRankSettings.Conv.SPATIAL, 6);
                assertEquals(new LayerSpec.RectConv2d(6, 3, 1, stride, 1, padding, Activation.IDENTITY, false),
                        r.spec().layers().get(0));
                assertEquals(new LayerSpec.RectConv2d(4, 1, 3, 1, stride, padding, Activation.RELU, true),
                        r.spec().layers().get(1));
                INDArray x = Nd4j.rand(DataType.FLOAT, 7, 72);
                assertTrue(net.output(x).equalsWithEps(r.net().output(x), 1e-5), "stride " + stride + ", " + padding);
            }
        }
    }

    @Test
    void truncatedFactorsMultiplyBackToTheTruncatedMatrix() {
        MultiLayerNetwork net = randomized(MLP, FLAT);
        LowRankFactorizer.LayerMatrix m = LowRankFactorizer.matrix(net, MLP, 0, LowRankSettings.Conv.FILTERS);
        TruncatedSvd svd = TruncatedSvd.of(m.values());
        LowRankFactorizer.Result r = LowRankFactorizer.factorize(net, MLP, 0, LowRankSettings.Conv.FILTERS, svd, 3,
                builder(FLAT));
        double[][] product = r.net().getParam("0_W").mmul(r.net().getParam("1_W")).castTo(DataType.DOUBLE)
                .toDoubleMatrix();
        double error = TruncatedSvdTest.relativeError(m.values(), product);
        assertEquals(svd.relativeError(3), error, 1e-5);
        assertTrue(error > 0.1, "a random 10 x 12 matrix is far from rank 3: " + error);
        assertEquals(net.getParam("0_b"), r.net().getParam("1_b"), "the original bias");
    }

    @Test
    void theFactorizedSpecCountsTheParametersOfTheSmallerNetwork() {
        // original: dense 10x12+12 = 132, dense 12x8+8 = 104, output 8x3+3 = 27: 263
        MultiLayerNetwork net = randomized(MLP, FLAT);
        assertEquals(263, MLP.cost(FLAT, 3).params());
        // dense_1 at rank 3: 12x3 (no bias) + 3x8+8 = 36 + 32 instead of 104
        LowRankFactorizer.Result r = factorize(net, MLP, FLAT, 1, 3);
        assertEquals(132 + 36 + 32 + 27, r.spec().cost(FLAT, 3).params());
        assertEquals(r.net().numParams(), r.spec().cost(FLAT, 3).params());
        assertEquals(120 + 36 + 24 + 24, r.spec().cost(FLAT, 3).multiplyAdds());
        // conv2d_0 (3x3x2 -> 4, 76 params, 6x6x72 = 2,592 MACs) at rank 2: 3x3x2x2 = 36 weights, then
        // 1x1x2x4 + 4 = 12: 48 params; 36 positions x (36 + 8) = 1,584 MACs
        MultiLayerNetwork cnn = randomized(CNN, IMAGE);
        LowRankFactorizer.Result c = factorize(cnn, CNN, IMAGE, 0, 2);
        long before = CNN.cost(IMAGE, 3).params();
        assertEquals(before - 76 + 48, c.spec().cost(IMAGE, 3).params());
        assertEquals(c.net().numParams(), c.spec().cost(IMAGE, 3).params());
        assertEquals(CNN.cost(IMAGE, 3).multiplyAdds() - 2592 + 1584, c.spec().cost(IMAGE, 3).multiplyAdds());
        // spatially at rank 2: 3x1x2x2 = 12 weights, then 1x3x2x4 + 4 = 28: 40 params;
        // 36 positions x 12 + 36 positions x 24 = 1,296 MACs
        LowRankFactorizer.Result s = factorize(cnn, CNN, IMAGE, 0, LowRankSettings.Conv.SPATIAL, 2);
        assertEquals(before - 76 + 40, s.spec().cost(IMAGE, 3).params());
        assertEquals(s.net().numParams(), s.spec().cost(IMAGE, 3).params());
        assertEquals(CNN.cost(IMAGE, 3).multiplyAdds() - 2592 + 1296, s.spec().cost(IMAGE, 3).multiplyAdds());
    }

    @Test
    void onlyDenseAndConvLayersWithABiasCanBeFactorized() {
        assertEquals(List.of("dense_0", "dense_1"), LowRankFactorizer.layerNames(MLP));
        assertEquals(List.of("conv2d_0", "dense_3"), LowRankFactorizer.layerNames(CNN));
        MultiLayerNetwork net = randomized(MLP, FLAT);
        LowRankFactorizer.Result r = factorize(net, MLP, FLAT, 0, 3);
        assertEquals(List.of("dense_1", "dense_2"), LowRankFactorizer.layerNames(r.spec()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LowRankFactorizer.matrix(r.net(), r.spec(), 0, LowRankSettings.Conv.FILTERS));
        assertTrue(e.getMessage().startsWith("dense_0 cannot be factorized"), e.getMessage());
        assertFalse(LowRankFactorizer.layerNames(CNN).contains("output_4"));
    }
}
