package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.BlockSpec;
import dev.distill.models.spec.BlockSpec.Add;
import dev.distill.models.spec.BlockSpec.Bottleneck;
import dev.distill.models.spec.BlockSpec.Concat;
import dev.distill.models.spec.BlockSpec.DenseBlock;
import dev.distill.models.spec.BlockSpec.GroupConv;
import dev.distill.models.spec.BlockSpec.Residual;
import dev.distill.models.spec.BlockSpec.Separable;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.GraphSpec.Block;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerCost;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelCost;
import dev.distill.models.spec.SpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Every graph block: the shape, parameters and multiply-adds its spec counts are the hand-computed
 * ones, and the DL4J graph built from it has that many parameters and gives that shape. Group
 * convolution with shuffle is checked against a convolution written out by hand.
 */
class GraphFactoryTest {

    /** 6×6 images with 4 channels: small enough to count by hand. */
    static final InputShape IMAGE = InputShape.image(6, 6, 4);

    private static GraphSpec single(BlockSpec block) {
        return new GraphSpec(List.of(Block.of("b", block),
                Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG))),
                Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
    }

    private static ComputationGraph build(GraphSpec spec) {
        return GraphFactory.build(spec, IMAGE, new Adam(1e-3), 0, 7, new LossMCXENT());
    }

    private static INDArray images(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, IMAGE.size());
    }

    /** Checks a block's counts against the hand-computed ones, and the built graph against the spec. */
    private static void check(BlockSpec block, String shape, long params, long macs) {
        GraphSpec spec = single(block);
        ModelCost cost = spec.cost(IMAGE, 3);
        LayerCost b = cost.layers().get(0);
        assertEquals(shape, b.outputShape(), block.type());
        assertEquals(params, b.params(), block.type() + " params");
        assertEquals(macs, b.multiplyAdds(), block.type() + " multiply-adds");
        ComputationGraph graph = build(spec);
        assertEquals(cost.params(), graph.numParams(), block.type() + ": DL4J's parameter count");
        INDArray act = graph.feedForward(images(2, 1), false).get("b");
        assertEquals(shape, act.size(2) + "x" + act.size(3) + "x" + act.size(1), block.type() + ": DL4J's shape");
        assertEquals(3, graph.outputSingle(false, images(2, 1)).columns());
    }

    @Test
    void separableCountsDepthwisePointwiseAndTwoBatchNorms() {
        // depthwise 9·4, bn 4·4, pointwise 4·8, bn 4·8; per position 36 + 4 + 32 + 8
        check(new Separable(8, 3, 1, Activation.RELU6), "6x6x8", 36 + 16 + 32 + 32, 36L * (36 + 4 + 32 + 8));
        check(new Separable(8, 3, 2, Activation.RELU), "3x3x8", 116, 9L * 80);
    }

    @Test
    void bottleneckCutsChannelsBeforeTheExpensiveConv() {
        // 1×1 4→2, bn 2, 3×3 2→8, bn 8
        check(new Bottleneck(8, 2, 3, 1, Activation.RELU), "6x6x8", 8 + 8 + 144 + 32, 36L * (8 + 2) + 36L * (144 + 8));
    }

    @Test
    void residualAddsTheInputOrAProjection() {
        // same shape: two 3×3 4→4 convs, two batch norms, the input added as it is
        check(new Residual(4, 3, 1, Activation.RELU), "6x6x4", 144 + 144 + 32, 36L * (144 + 144 + 8));
        // stride 2 and 4→8 channels: a 1×1 stride-2 projection with batch norm on the shortcut
        check(new Residual(8, 3, 2, Activation.RELU), "3x3x8", 288 + 576 + 64 + 32 + 32,
                9L * (288 + 576 + 16) + 9L * (32 + 8));
    }

    @Test
    void denseBlockConcatenatesEveryLayer() {
        // layer 1 reads 4 channels, layer 2 reads 4 + 3; output 4 + 2·3 channels
        check(new DenseBlock(2, 3, 3, Activation.RELU), "6x6x10", (16 + 108) + (28 + 189),
                36L * (4 + 108) + 36L * (7 + 189));
    }

    @Test
    void groupConvCountsOneGroupsWeights() {
        // 2 groups: each 3×3 over 2 channels to 4 filters; biases 8
        check(new GroupConv(8, 3, 2, 1, false, Activation.RELU), "6x6x8", 144 + 8, 36L * 144);
        check(new GroupConv(8, 3, 2, 2, true, Activation.RELU), "3x3x8", 152, 9L * 144);
        check(new GroupConv(8, 1, 1, 1, true, Activation.RELU), "6x6x8", 32 + 8, 36L * 32);
    }

    @Test
    void globalPoolAndPlainLayersCostWhatTheyCostSequentially() {
        check(new BlockSpec.Layer(new LayerSpec.Conv2d(5, 3, 1, LayerSpec.Padding.SAME, Activation.RELU)), "6x6x5",
                9 * 4 * 5 + 5, 36L * 180);
        GraphSpec spec = new GraphSpec(List.of(Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.MAX))),
                Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
        ModelCost cost = spec.cost(IMAGE, 3);
        assertEquals("4", cost.layers().get(0).outputShape());
        assertEquals(0, cost.layers().get(0).params());
        assertEquals(15, cost.params());
        assertEquals(15, build(spec).numParams());
    }

    @Test
    void addAndConcatMergeNamedInputs() {
        GraphSpec spec = new GraphSpec(List.of(
                Block.of("a", new Separable(4, 3, 1, Activation.RELU)),
                Block.of("sum", new Add(), "input", "a"),
                Block.of("cat", new Concat(), "sum", "a", "input"),
                Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG))),
                Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
        ModelCost cost = spec.cost(IMAGE, 3);
        assertEquals("6x6x4", cost.layers().get(1).outputShape());
        assertEquals("6x6x12", cost.layers().get(2).outputShape());
        ComputationGraph graph = build(spec);
        assertEquals(cost.params(), graph.numParams());
        INDArray x = images(2, 3);
        Map<String, INDArray> acts = graph.feedForward(x, false);
        INDArray image = x.reshape('c', 2, 4, 6, 6);
        assertEquals(0, acts.get("sum").sub(acts.get("a").add(image)).amaxNumber().doubleValue(), 1e-6);
        assertEquals(acts.get("a"), acts.get("cat").get(all(), interval(4, 8), all(), all()));
    }

    @Test
    void repeatChainsCopiesAndLaterBlocksReadTheLast() {
        GraphSpec spec = new GraphSpec(List.of(
                new Block("s", List.of(), new Separable(4, 3, 1, Activation.RELU), 3),
                Block.of("sum", new Add(), "s", "input"),
                Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG))),
                Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
        List<GraphSpec.Node> nodes = spec.nodes();
        assertEquals(List.of("s_1", "s_2", "s_3", "sum", "pool", "out"), nodes.stream().map(GraphSpec.Node::name).toList());
        assertEquals(List.of("s_2"), nodes.get(2).inputs());
        assertEquals(List.of("s_3", "input"), nodes.get(3).inputs());
        assertEquals(spec.cost(IMAGE, 3).params(), build(spec).numParams());
    }

    /**
     * A group convolution with shuffle, against the same arithmetic written out: each output channel
     * of group j sums only over group j's input channels, and shuffled channel i·groups + j is
     * channel i of group j.
     */
    @Test
    void groupConvWithShuffleMatchesAHandComputedConvolution() {
        int groups = 2;
        int filters = 6;
        GraphSpec spec = single(new GroupConv(filters, 3, groups, 1, true, Activation.IDENTITY));
        ComputationGraph graph = build(spec);
        INDArray x = images(2, 11);
        INDArray actual = graph.feedForward(x, false).get("b");
        double[][][][] in = new double[2][4][6][6];
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 4; c++) {
                for (int h = 0; h < 6; h++) {
                    for (int w = 0; w < 6; w++) {
                        // flat data is folded channels first, each channel row-major
                        in[n][c][h][w] = x.getDouble(n, c * 36 + h * 6 + w);
                    }
                }
            }
        }
        int perIn = 4 / groups;
        int perOut = filters / groups;
        for (int j = 0; j < groups; j++) {
            INDArray weights = graph.getLayer("b/conv" + j).getParam("W");   // [perOut, perIn, 3, 3]
            INDArray bias = graph.getLayer("b/conv" + j).getParam("b");
            for (int i = 0; i < perOut; i++) {
                int shuffled = i * groups + j;
                for (int n = 0; n < 2; n++) {
                    for (int h = 0; h < 6; h++) {
                        for (int w = 0; w < 6; w++) {
                            double sum = bias.getDouble(i);
                            for (int c = 0; c < perIn; c++) {
                                for (int kh = 0; kh < 3; kh++) {
                                    for (int kw = 0; kw < 3; kw++) {
                                        int hh = h + kh - 1;
                                        int ww = w + kw - 1;
                                        if (hh >= 0 && hh < 6 && ww >= 0 && ww < 6) {
                                            sum += weights.getDouble(i, c, kh, kw) * in[n][j * perIn + c][hh][ww];
                                        }
                                    }
                                }
                            }
                            assertEquals(sum, actual.getDouble(n, shuffled, h, w), 1e-5,
                                    "output channel " + shuffled + " at " + n + "," + h + "," + w);
                        }
                    }
                }
            }
        }
    }

    @Test
    void wiringErrorsNameTheBlockInOneLine() {
        BlockSpec sep = new Separable(4, 3, 1, Activation.RELU);
        BlockSpec pool = new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG));
        BlockSpec out = new BlockSpec.Layer(new LayerSpec.Output(3));
        List<String> messages = new ArrayList<>();
        // a reads b, b reads a
        messages.add(error(new GraphSpec(List.of(new Block("a", List.of("b"), sep, 1), Block.of("b", sep, "a"),
                Block.of("sum", new Add(), "a", "b"), Block.of("pool", pool), Block.of("out", out)))));
        messages.add(error(new GraphSpec(List.of(Block.of("a", sep), Block.of("sum", new Add(), "a", "nope"),
                Block.of("pool", pool), Block.of("out", out)))));
        messages.add(error(new GraphSpec(List.of(Block.of("a", new Separable(8, 3, 1, Activation.RELU)),
                Block.of("sum", new Add(), "a", "input"), Block.of("pool", pool), Block.of("out", out)))));
        messages.add(error(new GraphSpec(List.of(Block.of("a", new Separable(8, 3, 2, Activation.RELU)),
                Block.of("cat", new Concat(), "a", "input"), Block.of("pool", pool), Block.of("out", out)))));
        assertEquals("block 'a': its inputs form a cycle (a -> b -> a)", messages.get(0));
        assertEquals("block 'sum': unknown input 'nope'; known: input, a, pool, out", messages.get(1));
        assertEquals("block 'sum': add needs inputs of one shape, got a 6x6x8, input 6x6x4", messages.get(2));
        assertEquals("block 'cat': concat needs inputs of one height and width (or all flat), got a 3x3x8, input 6x6x4",
                messages.get(3));
        for (String m : messages) {
            assertFalse(m.contains("\n"), m);
        }
        SpecException groups = assertThrows(SpecException.class,
                () -> single(new GroupConv(6, 3, 3, 1, true, Activation.RELU)).cost(IMAGE, 3));
        assertEquals("block 'b': its input has 4 channels, not a multiple of groups (3)", groups.getMessage());
        assertEquals(0, groups.layerIndex());
    }

    private static String error(GraphSpec spec) {
        return assertThrows(SpecException.class, () -> spec.cost(IMAGE, 3)).getMessage();
    }

    @Test
    void aGraphTrainsAndSavesThroughTheNetworkType() throws Exception {
        GraphSpec spec = single(new Residual(4, 3, 1, Activation.RELU));
        Network net = Networks.build(spec, IMAGE, new Adam(1e-2), 0, 5, new LossMCXENT());
        assertTrue(net instanceof Network.Graph);
        INDArray x = images(8, 2);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 3);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 3, 1);
        }
        INDArray before = net.params().dup();
        net.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
        assertTrue(before.sub(net.params()).amaxNumber().doubleValue() > 0);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        org.deeplearning4j.util.ModelSerializer.writeModel(net.model(), bytes, true);
        Network back = Network.restore(bytes.toByteArray(), true);
        assertTrue(back instanceof Network.Graph);
        assertEquals(net.output(x), back.output(x));
        assertEquals(net.updaterState(), back.updaterState());
    }

    /**
     * Graph blocks' convolutions (no bias, 1×1, strided projections) and batch norms run on oneDNN
     * without falling back, and compute what DL4J's own path computes.
     */
    @Test
    void graphBlocksOnOneDnnAgreeWithDl4jsPath() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ConvBackend.oneDnnAvailable(), "needs a oneDNN build");
        GraphSpec spec = new GraphSpec(List.of(Block.of("res", new Residual(8, 3, 2, Activation.RELU)),
                Block.of("bottle", new Bottleneck(8, 2, 3, 1, Activation.RELU)),
                Block.of("gc", new GroupConv(8, 3, 2, 1, true, Activation.RELU)),
                Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(PoolType.AVG))),
                Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
        ComputationGraph onednn = build(spec);
        ComputationGraph dl4j = build(spec);
        assertTrue(ConvBackend.ONEDNN.apply(onednn) > 0);
        ConvBackend.DL4J.apply(dl4j);
        INDArray x = images(8, 4);
        assertEquals(0, onednn.outputSingle(false, x).sub(dl4j.outputSingle(false, x)).amaxNumber().doubleValue(), 1e-5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 3);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 3, 1);
        }
        for (int step = 0; step < 3; step++) {
            onednn.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
            dl4j.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
        }
        assertEquals(0, onednn.params().sub(dl4j.params()).amaxNumber().doubleValue(), 1e-4);
        assertEquals(0, ConvBackend.fallbacks(onednn.getLayers()));
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex all() {
        return org.nd4j.linalg.indexing.NDArrayIndex.all();
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex interval(long from, long to) {
        return org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to);
    }
}
