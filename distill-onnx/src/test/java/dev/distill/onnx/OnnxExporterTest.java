package dev.distill.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.core.quant.Quantizers;
import dev.distill.core.train.TeacherLogits;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import dev.distill.models.zoo.Zoo;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx.ModelProto;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Every layer kind through the exporter and back through ONNX Runtime, against DL4J's own output on
 * the same inputs. The networks take a few Adam steps first, so batch norm's running statistics and
 * the weights are not at their initial values. Three-channel images, so that a wrong channel order
 * (flatten, depthwise groups) shows.
 */
class OnnxExporterTest {

    private static final InputShape IMAGE = InputShape.image(8, 8, 3);
    private static final int CLASSES = 4;

    @Test
    void denseLayersWithEveryActivationBatchNormAndDropoutMatchDl4j() {
        List<LayerSpec> layers = new java.util.ArrayList<>();
        for (Activation a : Activation.values()) {
            layers.add(new LayerSpec.Dense(12, a));
        }
        layers.add(new LayerSpec.BatchNorm());
        layers.add(new LayerSpec.Dropout(0.3));
        layers.add(new LayerSpec.Output(CLASSES));
        assertMatches(new ModelSpec(layers), InputShape.flat(20));
    }

    @Test
    void convolutionsPoolingAndFlattenMatchDl4jInChannelsFirstOrder() {
        assertMatches(new ModelSpec(List.of(
                new LayerSpec.Conv2d(5, 3, 1, Padding.SAME, Activation.RELU),
                new LayerSpec.Conv2d(4, 2, 2, Padding.SAME, Activation.RELU6),
                new LayerSpec.Pool(PoolType.AVG, 2, 1),
                new LayerSpec.Conv2d(4, 2, 1, Padding.VALID, Activation.ELU),
                new LayerSpec.Dense(7, Activation.TANH),
                new LayerSpec.Output(CLASSES))), IMAGE);
    }

    @Test
    void depthwiseSeparableBatchNormAndGlobalPoolingMatchDl4j() {
        assertMatches(new ModelSpec(List.of(
                new LayerSpec.DepthwiseConv2d(3, 2, 1, Padding.SAME, Activation.IDENTITY),
                new LayerSpec.BatchNorm(),
                new LayerSpec.Activate(Activation.SWISH),
                new LayerSpec.SeparableConv2d(5, 3, 2, 2, Padding.SAME, Activation.LEAKYRELU),
                new LayerSpec.Pool(PoolType.MAX, 2, 2),
                new LayerSpec.GlobalPool(PoolType.MAX),
                new LayerSpec.Output(CLASSES))), IMAGE);
    }

    @Test
    void zooGraphsWithResidualsConcatenationGroupsAndShuffleMatchDl4j() {
        for (String name : List.of("mobilenet-tiny", "shufflenet-tiny", "resnet-tiny")) {
            assertMatches(Zoo.spec(name, 0.25, 1, CLASSES), IMAGE);
        }
    }

    @Test
    void int8WeightsAreWrittenAsInt8CodesBehindDequantizeLinearAndGiveTheDequantizedNetworksOutputs() {
        for (boolean symmetric : new boolean[] {true, false}) {
            Network net = trained(new ModelSpec(List.of(
                    new LayerSpec.Conv2d(5, 3, 1, Padding.SAME, Activation.RELU),
                    new LayerSpec.Pool(PoolType.MAX, 2, 2),
                    new LayerSpec.Dense(9, Activation.RELU),
                    new LayerSpec.Output(CLASSES))), IMAGE);
            // each W quantized (conv per output filter: axis 0; dense per output unit: axis 1; the output
            // layer per tensor), every third value pruned; the network then holds the dequantized values
            List<QuantizedTensor> tensors = new java.util.ArrayList<>();
            int[][] axes = {{0, 0}, {2, 1}, {3, -1}};
            for (int[] layerAxis : axes) {
                INDArray w = net.layers()[layerAxis[0]].getParam("W");
                float[] values = Nd4j.toFlattened('c', w).toFloatVector();
                int[] positions = java.util.stream.IntStream.range(0, values.length).filter(i -> i % 3 != 0).toArray();
                QuantizedTensor t = Quantizers.linear(layerAxis[0] + "_W", values, w.shape(), layerAxis[1], 8,
                        symmetric, positions);
                tensors.add(t);
                w.assign(Nd4j.createFromArray(t.dequantize()).reshape('c', w.shape()));
            }
            ModelProto model = OnnxExporter.export(net, Map.of(), tensors);
            assertEquals(3, model.getGraph().getNodeList().stream()
                    .filter(n -> n.getOpType().equals("DequantizeLinear")).count());
            long int8Values = model.getGraph().getInitializerList().stream()
                    .filter(t -> t.getDataType() == onnx.Onnx.TensorProto.DataType.INT8_VALUE)
                    .mapToLong(t -> t.getRawData().size()).sum();
            assertEquals(5 * 3 * 9 + 5 + 5 * 4 * 4 * 9 + 9 + 9 * CLASSES + 1, int8Values, "codes and zero points");
            INDArray x = features(40, IMAGE.size(), 7);
            OnnxAgreement a = OnnxAgreement.measure(net, model.toByteArray(), x, 1);
            assertEquals(1.0, a.sameClass(), a.toString());
            assertTrue(a.maxProbabilityDifference() <= 1e-5, a.toString());
        }
    }

    @Test
    void metadataAndTheTwoOutputsAreWritten() {
        Network net = trained(new ModelSpec(List.of(new LayerSpec.Dense(3, Activation.RELU),
                new LayerSpec.Output(CLASSES))), InputShape.flat(5));
        ModelProto model = OnnxExporter.export(net, Map.of(OnnxExporter.META_SCALE, "0.0625"));
        assertEquals("0.0625", model.getMetadataProps(0).getValue());
        assertEquals(List.of(OnnxExporter.PROBABILITIES, OnnxExporter.LOGITS),
                model.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertEquals(5 * 3 + 3 + 3 * CLASSES + CLASSES, OnnxWeights.of(model.toByteArray()).params());
    }

    @Test
    void aNetworkWithoutAnOutputLayerIsRefusedWithOneLine() {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().list()
                        .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(4).nOut(3).build())
                        .build());
        net.init();
        DistillException e = assertThrows(DistillException.class, () -> OnnxExporter.export(Network.of(net), Map.of()));
        assertTrue(e.getMessage().startsWith("ONNX export: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    /** Exported and run in ONNX Runtime, the network gives DL4J's probabilities and logits. */
    static void assertMatches(NetworkSpec spec, InputShape input) {
        Network net = trained(spec, input);
        INDArray x = features(40, input.size(), 7);
        byte[] onnx = OnnxExporter.export(net, Map.of()).toByteArray();
        OnnxAgreement agreement = OnnxAgreement.measure(net, onnx, x, 1);
        assertEquals(40, agreement.examples());
        assertTrue(agreement.maxProbabilityDifference() <= 1e-5, spec + ": " + agreement);
        assertEquals(1.0, agreement.sameClass(), spec + ": " + agreement);
        INDArray logits = TeacherLogits.compute(net, x);
        double logitDiff = logits.sub(OrtRun.run(onnx, x, OnnxExporter.LOGITS, 1)).amaxNumber().doubleValue();
        assertTrue(logitDiff <= 1e-4, spec + ": max |logit difference| " + logitDiff);
    }

    /** A network after a few Adam steps on random data: weights and batch statistics away from their start. */
    static Network trained(NetworkSpec spec, InputShape input) {
        Network net = Networks.build(spec, input, new Adam(0.01), 0, 3, new LossMCXENT());
        Random random = new Random(5);
        for (int step = 0; step < 5; step++) {
            INDArray x = features(32, input.size(), step);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 32, CLASSES);
            for (int i = 0; i < 32; i++) {
                y.putScalar(i, random.nextInt(CLASSES), 1f);
            }
            net.fit(new DataSet(x, y));
        }
        return net;
    }

    static INDArray features(int n, int d, long seed) {
        Random random = new Random(seed);
        float[][] x = new float[n][d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = random.nextFloat() * 2;
            }
        }
        return Nd4j.createFromArray(x);
    }
}
