package dev.distill.core.loss;

import static dev.distill.core.loss.DistillationLossTest.CLASSES;
import static dev.distill.core.loss.DistillationLossTest.SOFTMAX;
import static dev.distill.core.loss.DistillationLossTest.doubleNet;
import static dev.distill.core.loss.DistillationLossTest.gradientCheck;
import static dev.distill.core.loss.DistillationLossTest.oneHot;
import static dev.distill.core.loss.DistillationLossTest.wideLabels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Decoupled KD against finite differences (through a double-precision DL4J network and directly on the
 * logits), against vanilla KD through the identity KL = TCKD + (1 − p_g)·NCKD, against DL4J's
 * cross-entropy when both distillation terms are off, and on extreme logits.
 */
class DecoupledKdLossTest {

    @ParameterizedTest(name = "T={0} alpha={1} beta={2} hard={3}")
    @CsvSource({"4.0, 1.0, 8.0, 1.0", "1.0, 1.0, 1.0, 0.0", "2.0, 0.0, 2.0, 0.5", "3.0, 2.0, 0.0, 0.0"})
    void decoupledKdGradientMatchesFiniteDifferencesThroughANetwork(double t, double alpha, double beta, double hard) {
        MultiLayerNetwork net = doubleNet(new DecoupledKdLoss(t, alpha, beta, hard));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5).muli(4);
        assertTrue(gradientCheck(net, x, wideLabels(8, 1)), "gradient check failed");
    }

    @ParameterizedTest(name = "T={0} alpha={1} beta={2} hard={3}")
    @CsvSource({"4.0, 1.0, 8.0, 1.0", "0.5, 1.0, 2.0, 0.0", "10.0, 0.3, 5.0, 0.2"})
    void computeGradientMatchesCentralDifferencesOfComputeScoreArray(double t, double alpha, double beta,
            double hard) {
        DecoupledKdLoss loss = new DecoupledKdLoss(t, alpha, beta, hard);
        Nd4j.getRandom().setSeed(5);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2);
        INDArray labels = DistillationLoss.labels(oneHot(6, 2), Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2));
        DistillationLossTest.assertGradientMatchesCentralDifferences(loss, labels, logits);
    }

    /** Vanilla KD's KL splits into TCKD + (1 − p_g)·NCKD: DKD with beta = 1 − p_g is vanilla KD, score and gradient. */
    @Test
    void withBetaOneMinusTheTeachersTargetProbabilityItIsVanillaKd() {
        double t = 3;
        Nd4j.getRandom().setSeed(21);
        for (int i = 0; i < 5; i++) {
            INDArray logits = Nd4j.randn(DataType.DOUBLE, 1, CLASSES).muli(2);
            INDArray teacher = Nd4j.randn(DataType.DOUBLE, 1, CLASSES).muli(2);
            INDArray labels = DistillationLoss.labels(oneHot(1, i), teacher);
            int g = i % CLASSES;   // oneHot(1, i): row 0 has class i
            double pg = Nd4j.nn.softmax(teacher.div(t), 1).getDouble(0, g);
            DecoupledKdLoss dkd = new DecoupledKdLoss(t, 1, 1 - pg, 0);
            DistillationLoss kd = new DistillationLoss(t, 1, 0);
            assertEquals(kd.computeScore(labels, logits, SOFTMAX, null, false),
                    dkd.computeScore(labels, logits, SOFTMAX, null, false), 1e-10);
            INDArray kdGradient = kd.computeGradient(labels, logits, SOFTMAX, null);
            INDArray dkdGradient = dkd.computeGradient(labels, logits, SOFTMAX, null);
            for (int c = 0; c < CLASSES; c++) {
                assertEquals(kdGradient.getDouble(0, c), dkdGradient.getDouble(0, c), 1e-10, "class " + c);
            }
        }
    }

    @Test
    void withBothDistillationTermsOffItIsDl4jCrossEntropy() {
        Nd4j.getRandom().setSeed(3);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 7, CLASSES);
        INDArray y = oneHot(7, 1);
        INDArray labels = DistillationLoss.labels(y, Nd4j.randn(DataType.DOUBLE, 7, CLASSES));
        DecoupledKdLoss hardOnly = new DecoupledKdLoss(4, 0, 0, 1);
        LossMCXENT ce = new LossMCXENT();
        assertEquals(ce.computeScore(y, logits, SOFTMAX, null, true),
                hardOnly.computeScore(labels, logits, SOFTMAX, null, true), 1e-10);
        assertEquals(ce.computeGradient(y, logits, SOFTMAX, null),
                hardOnly.computeGradient(labels, logits, SOFTMAX, null));
    }

    @Test
    void bothTermsVanishWhenTheStudentMatchesTheTeacher() {
        Nd4j.getRandom().setSeed(8);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 4, CLASSES).muli(3);
        INDArray labels = DistillationLoss.labels(oneHot(4, 0), logits.dup());
        DecoupledKdLoss softOnly = new DecoupledKdLoss(2, 1, 8, 0);
        assertEquals(0, softOnly.computeScore(labels, logits, SOFTMAX, null, false), 1e-12);
        assertEquals(0, softOnly.computeGradient(labels, logits, SOFTMAX, null).amaxNumber().doubleValue(), 1e-12);
    }

    /** A teacher certain of the target (p_g = 1 in double) and huge student logits: finite, no NaN. */
    @Test
    void confidentTeachersAndHugeLogitsStayFinite() {
        INDArray logits = Nd4j.createFromArray(new double[][] {{900, -900, 0, 5}, {-1e4, 1e4, 3, 3}});
        INDArray teacher = Nd4j.createFromArray(new double[][] {{2000, -2000, -2000, -2000}, {0, 0, 0, 0}});
        INDArray labels = DistillationLoss.labels(oneHot(2, 0), teacher);
        DecoupledKdLoss loss = new DecoupledKdLoss(1, 1, 8, 1);
        INDArray scores = loss.computeScoreArray(labels, logits, SOFTMAX, null);
        INDArray gradient = loss.computeGradient(labels, logits, SOFTMAX, null);
        for (double v : scores.data().asDouble()) {
            assertTrue(Double.isFinite(v), scores.toString());
        }
        for (double v : gradient.data().asDouble()) {
            assertTrue(Double.isFinite(v), gradient.toString());
        }
    }

    @Test
    void constructorRejectsNonPositiveTemperatureNegativeWeightsAndAllWeightsZero() {
        assertThrows(IllegalArgumentException.class, () -> new DecoupledKdLoss(0, 1, 8, 1));
        assertThrows(IllegalArgumentException.class, () -> new DecoupledKdLoss(4, -1, 8, 1));
        assertThrows(IllegalArgumentException.class, () -> new DecoupledKdLoss(4, 1, Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> new DecoupledKdLoss(4, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DecoupledKdLoss(4, 1, Double.POSITIVE_INFINITY, 1));
    }

    @Test
    void networkWithTheLossRoundTripsThroughModelSerializer(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = doubleNet(new DecoupledKdLoss(2.5, 0.5, 6, 0.7));
        File file = dir.resolve("dkd.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        BaseOutputLayer out = (BaseOutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(new DecoupledKdLoss(2.5, 0.5, 6, 0.7), assertInstanceOf(DecoupledKdLoss.class, out.getLossFn()));
        Nd4j.getRandom().setSeed(13);
        DataSet data = new DataSet(Nd4j.rand(DataType.DOUBLE, 6, 5), wideLabels(6, 2));
        assertEquals(net.score(data), restored.score(data), 1e-12);
    }
}
