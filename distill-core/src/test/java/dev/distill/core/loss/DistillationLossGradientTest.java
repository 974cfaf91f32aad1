package dev.distill.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The distillation loss against finite differences (through a whole DL4J network, in double
 * precision), against DL4J's cross-entropy where the two must agree, and against the cases with a
 * known answer.
 */
class DistillationLossGradientTest {

    private static final int CLASSES = 4;

    private static MultiLayerNetwork doubleNet(DistillationLoss loss) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7)
                .dataType(DataType.DOUBLE)
                .updater(new NoOp())
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(5).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(loss).nIn(6).nOut(CLASSES).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static INDArray oneHot(int rows, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, rows, CLASSES);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, (i * 3 + (int) seed) % CLASSES, 1.0);
        }
        return y;
    }

    @ParameterizedTest(name = "T={0} soft={1} hard={2}")
    @CsvSource({"1.0, 0.5, 0.5", "4.0, 0.9, 0.1", "2.5, 1.0, 0.0", "8.0, 0.0, 1.0"})
    void distillationLossGradientMatchesFiniteDifferences(double t, double soft, double hard) {
        MultiLayerNetwork net = doubleNet(new DistillationLoss(t, soft, hard));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5);
        INDArray teacher = Nd4j.randn(DataType.DOUBLE, 8, CLASSES).muli(3);
        INDArray labels = DistillationLoss.labels(oneHot(8, 1), teacher);
        // GradientCheckUtil insists on double as ND4J's default type; other tests expect float back
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        boolean ok;
        try {
            ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig()
                    .net(net).input(x).labels(labels)
                    .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-8));
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
        assertTrue(ok, "gradient check failed for T=" + t);
    }

    @Test
    void lossGradientMatchesCentralDifferencesOnTheLogits() {
        DistillationLoss loss = new DistillationLoss(3.0, 0.7, 0.3);
        Nd4j.getRandom().setSeed(5);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2);
        INDArray labels = DistillationLoss.labels(oneHot(6, 2), Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2));
        INDArray analytic = loss.computeGradient(labels, logits, new ActivationSoftmax(), null);
        double eps = 1e-6;
        for (int i = 0; i < logits.rows(); i++) {
            for (int c = 0; c < CLASSES; c++) {
                INDArray plus = logits.dup();
                plus.putScalar(i, c, plus.getDouble(i, c) + eps);
                INDArray minus = logits.dup();
                minus.putScalar(i, c, minus.getDouble(i, c) - eps);
                double numeric = (loss.computeScore(labels, plus, new ActivationSoftmax(), null, false)
                        - loss.computeScore(labels, minus, new ActivationSoftmax(), null, false)) / (2 * eps);
                assertEquals(numeric, analytic.getDouble(i, c), 1e-7, "d/ds[" + i + "," + c + "]");
            }
        }
    }

    @Test
    void hardLabelsOnlyAtTemperatureOneEqualsCrossEntropy() {
        Nd4j.getRandom().setSeed(3);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 10, CLASSES);
        INDArray y = oneHot(10, 3);
        INDArray labels = DistillationLoss.labels(y, Nd4j.randn(DataType.DOUBLE, 10, CLASSES));
        DistillationLoss hardOnly = new DistillationLoss(1.0, 0.0, 1.0);
        LossMCXENT ce = new LossMCXENT();
        double ours = hardOnly.computeScore(labels, logits, new ActivationSoftmax(), null, true);
        double dl4j = ce.computeScore(y, logits.dup(), new ActivationSoftmax(), null, true);
        assertEquals(dl4j, ours, 1e-9);
        INDArray ourGradient = hardOnly.computeGradient(labels, logits, new ActivationSoftmax(), null);
        INDArray dl4jGradient = ce.computeGradient(y, logits.dup(), new ActivationSoftmax(), null);
        assertTrue(ourGradient.equalsWithEps(dl4jGradient, 1e-9));
    }

    @Test
    void softTermVanishesWhenStudentMatchesTeacher() {
        Nd4j.getRandom().setSeed(4);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 5, CLASSES).muli(4);
        INDArray labels = DistillationLoss.labels(oneHot(5, 4), logits.dup());
        DistillationLoss softOnly = new DistillationLoss(4.0, 1.0, 0.0);
        assertEquals(0.0, softOnly.computeScore(labels, logits, new ActivationSoftmax(), null, true), 1e-12);
        assertEquals(0.0, softOnly.computeGradient(labels, logits, new ActivationSoftmax(), null)
                .norm2Number().doubleValue(), 1e-12);
    }

    @Test
    void scoreIgnoresAConstantAddedToTheTeacherLogits() {
        Nd4j.getRandom().setSeed(6);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 5, CLASSES);
        INDArray teacher = Nd4j.randn(DataType.DOUBLE, 5, CLASSES);
        DistillationLoss loss = new DistillationLoss(2.0, 0.9, 0.1);
        double a = loss.computeScore(DistillationLoss.labels(oneHot(5, 5), teacher), logits, null, null, true);
        double b = loss.computeScore(DistillationLoss.labels(oneHot(5, 5), teacher.add(100)), logits, null, null, true);
        assertEquals(a, b, 1e-9);
    }

    @Test
    void perExampleMaskRemovesMaskedExamples() {
        Nd4j.getRandom().setSeed(8);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 4, CLASSES);
        INDArray labels = DistillationLoss.labels(oneHot(4, 6), Nd4j.randn(DataType.DOUBLE, 4, CLASSES));
        DistillationLoss loss = new DistillationLoss(4.0, 0.9, 0.1);
        INDArray mask = Nd4j.createFromArray(new double[][] {{1}, {0}, {1}, {0}});
        INDArray scores = loss.computeScoreArray(labels, logits, null, mask);
        assertEquals(0.0, scores.getDouble(1, 0), 0.0);
        assertTrue(scores.getDouble(0, 0) > 0);
        assertEquals(0.0, loss.computeGradient(labels, logits, null, mask).getRow(3).norm2Number().doubleValue(), 0.0);
    }

    @Test
    void rejectsLabelsThatAreNotTwiceAsWideAsTheOutput() {
        DistillationLoss loss = new DistillationLoss();
        INDArray logits = Nd4j.zeros(DataType.DOUBLE, 2, CLASSES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScore(oneHot(2, 0), logits, null, null, true));
        assertTrue(e.getMessage().contains("teacher logits"), e.getMessage());
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0, 0.9, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(-1, 0.9, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(4, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(4, -0.1, 1));
    }

    @Test
    void networkWithTheLossSurvivesModelSerializer(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = doubleNet(new DistillationLoss(2.5, 0.8, 0.2));
        File file = dir.resolve("kd.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        BaseOutputLayer out = (BaseOutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(new DistillationLoss(2.5, 0.8, 0.2), out.getLossFn());
        assertEquals(net.params(), restored.params());
    }
}
