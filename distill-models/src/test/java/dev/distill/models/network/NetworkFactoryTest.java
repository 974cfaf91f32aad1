package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerCost;
import dev.distill.models.spec.LayerSpec;
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
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/** DL4J networks built from specs agree with the spec's own shape walk and parameter count. */
class NetworkFactoryTest {

    /** One of every layer type, with strides and both paddings, on a small two-channel image. */
    static final ModelSpec EVERY_LAYER = new ModelSpec(List.of(
            new Conv2d(4, 3, 2, Padding.SAME, Activation.RELU),              // 9x9x2 -> 5x5x4
            new BatchNorm(),
            new DepthwiseConv2d(3, 2, 1, Padding.SAME, Activation.RELU6),     // -> 5x5x8
            new SeparableConv2d(6, 2, 1, 1, Padding.VALID, Activation.TANH),  // -> 4x4x6
            new Pool(PoolType.MAX, 2, 2),                                      // -> 2x2x6
            new Dropout(0.25),
            new Conv2d(5, 2, 1, Padding.VALID, Activation.SWISH),             // -> 1x1x5
            new Pool(PoolType.AVG, 1, 1),                                      // -> 1x1x5
            new GlobalPool(PoolType.MAX),                                      // -> 5
            new Dense(7, Activation.LEAKYRELU),
            new BatchNorm(),
            new Output(3)));
    static final InputShape IMAGE = InputShape.image(9, 9, 2);

    /** DL4J's activation shape as the spec writes it: NCHW -> "HxWxC", [n, k] -> "k". */
    private static String specShape(INDArray activation) {
        long[] s = activation.shape();
        return s.length == 4 ? s[2] + "x" + s[3] + "x" + s[1] : String.valueOf(s[1]);
    }

    @Test
    void networkWithEveryLayerTypeHasTheParameterCountOfItsSpec() {
        ModelCost cost = EVERY_LAYER.cost(IMAGE, 3);
        MultiLayerNetwork net = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 1);
        assertEquals(cost.params(), net.numParams());
        assertEquals(EVERY_LAYER.layers().size(), net.getnLayers());
        for (LayerCost layer : cost.layers()) {
            assertEquals(layer.params(), net.getLayer(layer.index()).numParams(),
                    "layer " + layer.index() + " (" + layer.type() + ")");
        }
    }

    @Test
    void networkWithEveryLayerTypeHasTheActivationShapesOfItsSpec() {
        ModelCost cost = EVERY_LAYER.cost(IMAGE, 3);
        MultiLayerNetwork net = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 1);
        Nd4j.getRandom().setSeed(2);
        List<INDArray> activations = net.feedForward(Nd4j.rand(DataType.FLOAT, 2, IMAGE.size()), false);
        // activations.get(0) is the input; get(i + 1) is layer i's output
        for (LayerCost layer : cost.layers()) {
            assertEquals(layer.outputShape(), specShape(activations.get(layer.index() + 1)),
                    "layer " + layer.index() + " (" + layer.type() + ")");
        }
    }

    @Test
    void outputIsOneProbabilityRowPerExample() {
        MultiLayerNetwork net = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 1);
        Nd4j.getRandom().setSeed(3);
        INDArray out = net.output(Nd4j.rand(DataType.FLOAT, 5, IMAGE.size()), false);
        assertArrayEquals(new long[] {5, 3}, out.shape());
        assertEquals(DataType.FLOAT, out.dataType());
        assertTrue(out.minNumber().doubleValue() > 0, "softmax outputs are positive");
        INDArray rowSums = out.sum(1);
        for (int i = 0; i < 5; i++) {
            assertEquals(1.0, rowSums.getDouble(i), 1e-5, "row " + i);
        }
    }

    @Test
    void sameSeedGivesIdenticalInitialParamsAndDifferentSeedDifferentOnes() {
        INDArray a = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 9).params();
        INDArray b = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 9).params();
        INDArray c = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 10).params();
        assertEquals(a, b);
        assertNotEquals(a, c);
        // not just a few entries: the weights are redrawn
        long differing = a.neq(c).castTo(DataType.INT32).sumNumber().longValue();
        assertTrue(differing > a.length() / 2, differing + " of " + a.length() + " differ");
    }

    @Test
    void seedZeroIsAsRepeatableAsAnyOther() {
        // DL4J 1.0.0-M2.1 draws fresh weights for seed(0) every time: the factory must not pass it on
        for (long seed : new long[] {0, 1, -1}) {
            INDArray a = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, seed).params();
            INDArray b = NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, seed).params();
            assertEquals(a, b, "seed " + seed);
        }
        assertNotEquals(NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 0).params(),
                NetworkFactory.build(EVERY_LAYER, IMAGE, new Adam(1e-3), 0, 1).params());
    }

    @Test
    void flatImagesAreFoldedChannelsFirstAsConvolutionalFlatDoes() {
        // 2x2 image, 2 channels; channels-first flat layout (c, h, w): channel 0 = 1s, channel 1 = 5s
        ModelSpec spec = new ModelSpec(List.of(new GlobalPool(PoolType.MAX), new Output(2)));
        InputShape input = InputShape.image(2, 2, 2);
        MultiLayerNetwork net = NetworkFactory.build(spec, input, new Adam(1e-3), 0, 1);
        INDArray x = Nd4j.createFromArray(new float[][] {{1, 1, 1, 1, 5, 5, 5, 5}});
        INDArray pooled = net.feedForward(x, false).get(1);
        assertEquals(Nd4j.createFromArray(new float[][] {{1, 5}}), pooled);
    }

    @Test
    void dropoutRateIsTheProbabilityOfDroppingAUnit() {
        ModelSpec spec = new ModelSpec(List.of(new Dropout(0.25), new Output(2)));
        MultiLayerNetwork net = NetworkFactory.build(spec, InputShape.flat(400), new Adam(1e-3), 0, 1);
        Nd4j.getRandom().setSeed(4);
        INDArray dropped = net.feedForward(Nd4j.ones(DataType.FLOAT, 50, 400), true).get(1);
        double zeros = dropped.eq(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        assertEquals(0.25, zeros, 0.02, "fraction of units dropped in training");
        // inference: nothing dropped
        INDArray kept = net.feedForward(Nd4j.ones(DataType.FLOAT, 50, 400), false).get(1);
        assertEquals(Nd4j.ones(DataType.FLOAT, 50, 400), kept);
    }

    @Test
    void outputLayerUsesTheGivenLossAndCrossEntropyByDefault() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(4, Activation.RELU), new Output(3)));
        MultiLayerNetwork plain = NetworkFactory.build(spec, InputShape.flat(5), new Sgd(0.1), 0, 1);
        BaseOutputLayer out = (BaseOutputLayer) plain.getLayerWiseConfigurations().getConf(1).getLayer();
        assertInstanceOf(LossMCXENT.class, out.getLossFn());
        assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());

        MultiLayerNetwork custom = NetworkFactory.build(spec, InputShape.flat(5), new Sgd(0.1), 0, 1, new LossMSE());
        BaseOutputLayer customOut = (BaseOutputLayer) custom.getLayerWiseConfigurations().getConf(1).getLayer();
        assertInstanceOf(LossMSE.class, customOut.getLossFn());
        assertEquals(DataType.FLOAT, custom.params().dataType());
    }

    @Test
    void weightDecayAppliesToWeightsNotBiases() {
        ModelSpec spec = new ModelSpec(List.of(new Dense(4, Activation.RELU), new Output(3)));
        MultiLayerNetwork decayed = NetworkFactory.build(spec, InputShape.flat(5), new Adam(1e-3), 1e-4, 1);
        BaseLayer dense = (BaseLayer) decayed.getLayerWiseConfigurations().getConf(0).getLayer();
        assertTrue(dense.getRegularization().stream().anyMatch(r -> r instanceof WeightDecay wd
                && wd.getCoeff().valueAt(0, 0) == 1e-4), dense.getRegularization().toString());
        assertTrue(dense.getRegularizationBias() == null || dense.getRegularizationBias().isEmpty(),
                String.valueOf(dense.getRegularizationBias()));

        MultiLayerNetwork none = NetworkFactory.build(spec, InputShape.flat(5), new Adam(1e-3), 0, 1);
        BaseLayer plain = (BaseLayer) none.getLayerWiseConfigurations().getConf(0).getLayer();
        assertTrue(plain.getRegularization() == null || plain.getRegularization().isEmpty());
    }

    @Test
    void theLayersOfLowRankPairsHaveTheParametersAndShapesOfTheirSpec() {
        // bias-free halves and rectangular kernels with separate strides, as the low-rank stage builds them
        ModelSpec spec = new ModelSpec(List.of(
                new LayerSpec.RectConv2d(3, 3, 1, 2, 1, Padding.SAME, Activation.IDENTITY, false),  // 9x9x2 -> 5x9x3
                new LayerSpec.RectConv2d(4, 1, 3, 1, 2, Padding.VALID, Activation.RELU, true),      // -> 5x4x4
                new Conv2d(2, 3, 1, Padding.VALID, Activation.IDENTITY, false),                     // -> 3x2x2
                new Dense(6, Activation.IDENTITY, false),
                new Output(3)));
        ModelCost cost = spec.cost(IMAGE, 3);
        MultiLayerNetwork net = NetworkFactory.build(spec, IMAGE, new Adam(1e-3), 0, 1);
        assertEquals(List.of(3L * 2 * 3, 4L * 3 * 3 + 4, 2L * 4 * 9, 12L * 6, 6L * 3 + 3),
                cost.layers().stream().map(LayerCost::params).toList());
        assertEquals(cost.params(), net.numParams());
        assertEquals(List.of("5x9x3", "5x4x4", "3x2x2", "6", "3"),
                cost.layers().stream().map(LayerCost::outputShape).toList());
        List<INDArray> activations = net.feedForward(Nd4j.rand(DataType.FLOAT, 2, IMAGE.size()), false);
        for (LayerCost layer : cost.layers()) {
            assertEquals(layer.outputShape(), specShape(activations.get(layer.index() + 1)), "layer " + layer.index());
            assertEquals(layer.params(), net.getLayer(layer.index()).numParams(), "layer " + layer.index());
        }
        // 5x9 positions x 3x1 kernels x 2 channels x 3 filters, then 5x4 x 1x3 x 3 channels x 4 filters
        assertEquals(45L * 18, cost.layers().get(0).multiplyAdds());
        assertEquals(20L * 36, cost.layers().get(1).multiplyAdds());
    }
}
