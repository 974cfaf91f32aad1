package dev.distill.runner.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
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
import dev.distill.onnx.OnnxAgreement;
import dev.distill.onnx.OnnxExporter;
import dev.distill.onnx.OrtRun;
import dev.distill.runner.data.Datasets;
import dev.distill.runner.testing.CliRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Students of each kind trained for two epochs on the shipped digits (the training part of the run's
 * split), exported to ONNX and run in ONNX Runtime on the whole test split (the 360 examples every
 * digits run is tested on): the same class as DL4J on every example and probabilities within 1e-5.
 * Prints the round-trip table the README quotes.
 */
class OnnxRoundTripTest {

    private static final InputShape DIGITS = InputShape.image(8, 8, 1);
    private static LabeledData train;
    private static LabeledData test;
    private static final List<String> TABLE = new ArrayList<>();

    @BeforeAll
    static void digits() {
        // as ExperimentData does for digits: 20% held out for test with seed 0
        Splits.Pair parts = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0);
        train = parts.first();
        test = parts.second();
    }

    @AfterAll
    static void printTable() {
        System.out.println("| model kind | test examples | same class | max abs(probability difference) | DL4J test accuracy |");
        System.out.println("|---|---|---|---|---|");
        TABLE.forEach(System.out::println);
    }

    @Test
    void anMlpStudentGivesDl4jsPredictionsInOnnxRuntime() {
        assertRoundTrip("MLP (dense 32 relu, output)", new ModelSpec(List.of(
                new LayerSpec.Dense(32, Activation.RELU), new LayerSpec.Output(10))));
    }

    @Test
    void aCnnStudentGivesDl4jsPredictionsInOnnxRuntime() {
        assertRoundTrip("CNN (zoo cnn, width 0.25)", Zoo.spec("cnn", 0.25, 1, 10));
    }

    @Test
    void aDepthwiseSeparableStudentGivesDl4jsPredictionsInOnnxRuntime() {
        assertRoundTrip("depthwise-separable (depthwise x2, batch norm, relu6, separable 16 s2, global avg pool)",
                new ModelSpec(List.of(
                        new LayerSpec.Conv2d(8, 3, 1, Padding.SAME, Activation.RELU),
                        new LayerSpec.DepthwiseConv2d(3, 2, 1, Padding.SAME, Activation.IDENTITY),
                        new LayerSpec.BatchNorm(),
                        new LayerSpec.Activate(Activation.RELU6),
                        new LayerSpec.SeparableConv2d(16, 3, 1, 2, Padding.SAME, Activation.RELU),
                        new LayerSpec.GlobalPool(PoolType.AVG),
                        new LayerSpec.Output(10))));
    }

    @Test
    void zooGraphStudentsGiveDl4jsPredictionsInOnnxRuntime() {
        assertRoundTrip("zoo graph mobilenet-tiny, width 0.5", Zoo.spec("mobilenet-tiny", 0.5, 1, 10));
        // resnet narrower to save test time; shufflenet-tiny at 0.25 stays near chance after two epochs
        assertRoundTrip("zoo graph resnet-tiny, width 0.25", Zoo.spec("resnet-tiny", 0.25, 1, 10));
        assertRoundTrip("zoo graph shufflenet-tiny, width 0.5", Zoo.spec("shufflenet-tiny", 0.5, 1, 10));
    }

    private static void assertRoundTrip(String kind, NetworkSpec spec) {
        Network net = trained(spec);
        byte[] onnx = OnnxExporter.export(net, Map.of()).toByteArray();
        OnnxAgreement a = OnnxAgreement.measure(net, onnx, test.features(), 1);
        double accuracy = Accuracy.of(net, test);
        TABLE.add(String.format(Locale.ROOT, "| %s | %d | %.1f%% | %.2g | %.4f |", kind, a.examples(),
                100 * a.sameClass(), a.maxProbabilityDifference(), accuracy));
        assertEquals(test.size(), a.examples());
        assertEquals(1.0, a.sameClass(), kind + ": " + a);
        assertTrue(a.maxProbabilityDifference() <= 1e-5, kind + ": " + a);
        // a net that gave every example the same class would agree trivially; two epochs leave some of
        // these students weak (shufflenet-tiny about 0.2), but none says the same thing to everything
        long classes = java.util.Arrays.stream(Accuracy.predict(net, test.features())).distinct().count();
        assertTrue(classes >= 3, kind + ": predicts only " + classes + " classes");
        INDArray ortProbabilities = OrtRun.run(onnx, test.features(), OnnxExporter.PROBABILITIES, 1);
        assertEquals(accuracy, Accuracy.of(ortProbabilities.argMax(1).toIntVector(), test.labels()), 1e-12);
    }

    /** Two epochs of Adam in batches of 32, shuffled with a fixed seed. */
    private static Network trained(NetworkSpec spec) {
        Network net = Networks.build(spec, DIGITS, new Adam(0.01), 0, 1, new LossMCXENT());
        Random random = new Random(1);
        int n = train.size();
        INDArray y = train.oneHot();
        for (int epoch = 0; epoch < 2; epoch++) {
            int[] order = java.util.stream.IntStream.range(0, n).toArray();
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int start = 0; start < n; start += 32) {
                int[] batch = java.util.Arrays.copyOfRange(order, start, Math.min(n, start + 32));
                net.fit(new DataSet(Nd4j.pullRows(train.features(), 1, batch), Nd4j.pullRows(y, 1, batch)));
            }
        }
        return net;
    }
}
