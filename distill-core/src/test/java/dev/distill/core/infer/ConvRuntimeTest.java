package dev.distill.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
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
import dev.distill.models.spec.LayerSpec.RectConv2d;
import dev.distill.models.spec.LayerSpec.SeparableConv2d;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The channels-last runtime gives DL4J's outputs for the layer kinds this project's students and
 * teachers are made of, on networks trained for a few steps (so batch norm has real running
 * statistics and the weights are not their initialisation).
 */
class ConvRuntimeTest {

    /** {@code spec} built for {@code input} and trained 30 Adam steps on random data with random labels. */
    private static MultiLayerNetwork trained(InputShape input, LayerSpec... layers) {
        MultiLayerNetwork net = NetworkFactory.build(new ModelSpec(List.of(layers)), input, new Adam(1e-2), 0, 7);
        Nd4j.getRandom().setSeed(11);
        long features = (long) input.height() * input.width() * input.channels();
        for (int step = 0; step < 30; step++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 32, features);
            INDArray labels = Nd4j.zeros(DataType.FLOAT, 32, 5);
            for (int i = 0; i < 32; i++) {
                labels.putScalar(i, (i * 7 + step) % 5, 1f);
            }
            net.fit(new DataSet(x, labels));
        }
        return net;
    }

    private static void assertSameOutputs(MultiLayerNetwork net, ConvRuntime runtime, int examples) {
        assertSameOutputs(net, runtime, examples, 1e-5);
    }

    private static void assertSameOutputs(MultiLayerNetwork net, ConvRuntime runtime, int examples, double tolerance) {
        long features = runtime.inputSize();
        INDArray x = Nd4j.rand(DataType.FLOAT, examples, features);
        INDArray expected = net.output(x, false);
        INDArray actual = runtime.output(x);
        assertEquals(List.of(expected.shape()[0], expected.shape()[1]), List.of(actual.shape()[0], actual.shape()[1]));
        double worst = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMax(
                expected.sub(actual))).getDouble(0);
        assertTrue(worst < tolerance, "largest difference from DL4J's output: " + worst);
    }

    @Test
    void aTeacherShapedCnnGivesDl4jsOutputs() {
        MultiLayerNetwork net = trained(InputShape.image(12, 12, 1),
                new Conv2d(8, 3, 1, Padding.SAME, Activation.RELU), new Pool(PoolType.MAX, 2, 2),
                new Conv2d(16, 3, 1, Padding.SAME, Activation.RELU), new Pool(PoolType.MAX, 2, 2),
                new Dense(24, Activation.RELU), new Dropout(0.2), new Output(5));
        ConvRuntime runtime = ConvRuntime.compile(net);
        // each ReLU moves after the max pool that follows it
        assertEquals(List.of("conv2d", "max_pool", "activation", "conv2d", "max_pool", "activation", "dense", "dense"),
                runtime.steps());
        assertEquals(144, runtime.inputSize());
        assertEquals(5, runtime.outputSize());
        assertSameOutputs(net, runtime, 40);
    }

    @Test
    void aDepthwiseSeparableStudentWithBatchNormGivesDl4jsOutputs() {
        MultiLayerNetwork net = trained(InputShape.image(12, 12, 1),
                new Conv2d(8, 3, 1, Padding.SAME, Activation.RELU), new BatchNorm(), new Pool(PoolType.MAX, 2, 2),
                new DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY),
                new Conv2d(16, 1, 1, Padding.SAME, Activation.RELU), new BatchNorm(),
                new DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY),
                new Conv2d(24, 1, 1, Padding.SAME, Activation.RELU6), new BatchNorm(),
                new GlobalPool(PoolType.AVG), new Output(5));
        // a nearly dead channel, as long training leaves some: its running std is close to sqrt(eps)
        net.getLayer(1).getParam("log10stdev").putScalar(0, -2.4);
        ConvRuntime runtime = ConvRuntime.compile(net);
        assertSameOutputs(net, runtime, 40);
        // batch norm after an activation cannot fold into the layer before it: it moves past the max pool
        // (no negative scale here; the ReLU moves there too), stays before a padded depthwise conv, and
        // after global average pooling folds into the dense layer; the pooling itself then folds into the
        // dense layer's weights
        assertEquals(List.of("conv2d", "max_pool", "activation", "batch_norm", "depthwise_conv2d", "conv2d",
                "batch_norm", "depthwise_conv2d", "conv2d", "dense"), runtime.steps());
    }

    @Test
    void aStudentThatNormalisesBeforeItsActivationsRunsWithoutAnyBatchNormStep() {
        MultiLayerNetwork net = trained(InputShape.image(12, 12, 1),
                new Conv2d(8, 3, 2, Padding.SAME, Activation.IDENTITY), new BatchNorm(),
                new LayerSpec.Activate(Activation.RELU),
                new DepthwiseConv2d(3, 1, 1, Padding.SAME, Activation.IDENTITY),
                new Conv2d(16, 1, 1, Padding.SAME, Activation.IDENTITY), new BatchNorm(),
                new LayerSpec.Activate(Activation.RELU), new Pool(PoolType.MAX, 2, 2),
                new GlobalPool(PoolType.AVG), new Output(5));
        ConvRuntime runtime = ConvRuntime.compile(net);
        assertEquals(List.of("conv2d", "activation", "depthwise_conv2d", "conv2d", "max_pool", "activation", "dense"),
                runtime.steps());
        assertSameOutputs(net, runtime, 30, 1e-4);
    }

    @Test
    void batchNormWithANegativeScaleStaysBeforeAMaxPool() {
        MultiLayerNetwork net = trained(InputShape.image(8, 8, 1),
                new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU), new BatchNorm(), new Pool(PoolType.MAX, 2, 2),
                new GlobalPool(PoolType.MAX), new Output(5));
        // max(-x) is -min(x): the order matters
        net.getLayer(1).getParam("gamma").putScalar(2, -0.7);
        ConvRuntime runtime = ConvRuntime.compile(net);
        assertEquals(List.of("conv2d", "batch_norm", "max_pool", "global_max_pool", "dense"), runtime.steps());
        assertSameOutputs(net, runtime, 30);
    }

    @Test
    void batchNormRightAfterALinearConvolutionIsFoldedIntoIt() {
        MultiLayerNetwork net = trained(InputShape.image(10, 10, 1),
                new Conv2d(6, 3, 1, Padding.SAME, Activation.IDENTITY), new BatchNorm(),
                new DepthwiseConv2d(3, 2, 1, Padding.SAME, Activation.IDENTITY), new BatchNorm(),
                new Dense(12, Activation.IDENTITY), new BatchNorm(), new Output(5));
        ConvRuntime runtime = ConvRuntime.compile(net);
        assertEquals(List.of("conv2d", "depthwise_conv2d", "dense", "dense"), runtime.steps());
        // folding rounds the scaled weights once more than DL4J's separate normalization does
        assertSameOutputs(net, runtime, 25, 1e-4);
    }

    @Test
    void colourInputStridesValidPaddingAveragePoolingAndRectangularKernelsGiveDl4jsOutputs() {
        MultiLayerNetwork net = trained(InputShape.image(13, 11, 3),
                new Conv2d(6, 3, 2, Padding.VALID, Activation.TANH),
                new RectConv2d(5, 3, 1, 1, 1, Padding.SAME, Activation.RELU, true),
                new RectConv2d(7, 1, 3, 1, 1, Padding.VALID, Activation.RELU, false),
                new Pool(PoolType.AVG, 2, 2), new GlobalPool(PoolType.MAX), new Output(5));
        assertSameOutputs(net, ConvRuntime.compile(net), 30);
    }

    @Test
    void aDenseNetworkGivesDl4jsOutputs() {
        MultiLayerNetwork net = trained(InputShape.flat(20), new Dense(16, Activation.SIGMOID),
                new Dense(8, Activation.LEAKYRELU), new Output(5));
        assertSameOutputs(net, ConvRuntime.compile(net), 30);
    }

    @Test
    void changingTheBatchSizeBetweenCallsGivesTheSameOutputsPerExample() {
        MultiLayerNetwork net = trained(InputShape.image(8, 8, 1),
                new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU), new BatchNorm(), new Output(5));
        ConvRuntime runtime = ConvRuntime.compile(net);
        INDArray x = Nd4j.rand(DataType.FLOAT, 9, 64);
        INDArray all = runtime.output(x);
        INDArray firstThree = runtime.output(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all()));
        INDArray again = runtime.output(x);
        assertEquals(all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all()), firstThree);
        assertEquals(all, again);
        // the result is the caller's: a later call does not overwrite it
        INDArray kept = all.dup();
        runtime.output(Nd4j.rand(DataType.FLOAT, 9, 64));
        assertEquals(kept, all);
    }

    @Test
    void aFusedSeparableLayerIsRefusedNamingTheLayerAndTheAlternative() {
        MultiLayerNetwork net = NetworkFactory.build(new ModelSpec(List.of(
                new Conv2d(4, 3, 1, Padding.SAME, Activation.RELU),
                new SeparableConv2d(8, 3, 1, 1, Padding.SAME, Activation.RELU), new Output(5))),
                InputShape.image(8, 8, 1), new Adam(1e-3), 0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConvRuntime.compile(net));
        assertEquals("layer 1 (SeparableConvolution2DLayer) is not supported by the runtime: use depthwise_conv2d"
                + " followed by a 1x1 conv2d", e.getMessage());
    }

    @Test
    void featuresOfTheWrongWidthAreRefused() {
        MultiLayerNetwork net = trained(InputShape.flat(20), new Dense(4, Activation.RELU), new Output(5));
        ConvRuntime runtime = ConvRuntime.compile(net);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> runtime.output(Nd4j.rand(DataType.FLOAT, 3, 21)));
        assertEquals("expected [examples, 20] features, got [3, 21]", e.getMessage());
    }
}
