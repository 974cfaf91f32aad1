package dev.distill.core.loss;

import static dev.distill.core.loss.DistillationLossTest.CLASSES;
import static dev.distill.core.loss.DistillationLossTest.SOFTMAX;
import static dev.distill.core.loss.DistillationLossTest.doubleNet;
import static dev.distill.core.loss.DistillationLossTest.gradientCheck;
import static dev.distill.core.loss.DistillationLossTest.oneHot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.chain.EnsembleTargets;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An ensemble's targets ({@link EnsembleTargets}): their softmax at T is the weighted average of the teachers'
 * softened probabilities, kd and dkd on them score against that average, and their gradients pass DL4J's
 * double-precision check through a network.
 */
class EnsembleTargetsTest {

    static List<INDArray> teachers(int rows, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return List.of(Nd4j.randn(DataType.DOUBLE, rows, CLASSES).muli(3),
                Nd4j.randn(DataType.DOUBLE, rows, CLASSES).muli(2).addi(1),
                Nd4j.randn(DataType.DOUBLE, rows, CLASSES));
    }

    static double[] softmax(INDArray row, double t) {
        double[] x = row.toDoubleVector();
        double[] p = new double[x.length];
        double max = java.util.Arrays.stream(x).max().orElseThrow();
        double sum = 0;
        for (int j = 0; j < x.length; j++) {
            p[j] = Math.exp((x[j] - max) / t);
            sum += p[j];
        }
        for (int j = 0; j < x.length; j++) {
            p[j] /= sum;
        }
        return p;
    }

    @ParameterizedTest(name = "T={0}")
    @CsvSource({"1.0", "4.0", "0.5"})
    void theSoftmaxOfTheTargetsAtTIsTheWeightedAverageOfTheTeachersSoftenedProbabilities(double t) {
        List<INDArray> logits = teachers(6, 3);
        double[] w = {0.5, 0.3, 0.2};
        INDArray z = EnsembleTargets.logits(logits, w, t);
        for (int i = 0; i < 6; i++) {
            double[] got = softmax(z.getRow(i), t);
            for (int j = 0; j < CLASSES; j++) {
                double expected = 0;
                for (int k = 0; k < 3; k++) {
                    expected += w[k] * softmax(logits.get(k).getRow(i), t)[j];
                }
                assertEquals(expected, got[j], 1e-6, "row " + i + " class " + j);
            }
        }
    }

    @Test
    void kdOnTheTargetsScoresTheKlToTheAveragedProbabilities() {
        double t = 2;
        List<INDArray> logits = teachers(5, 8);
        double[] w = {0.2, 0.2, 0.6};
        INDArray y = oneHot(5, 1);
        INDArray labels = DistillationLoss.labels(y, EnsembleTargets.logits(logits, w, t).castTo(DataType.DOUBLE));
        Nd4j.getRandom().setSeed(2);
        INDArray s = Nd4j.randn(DataType.DOUBLE, 5, CLASSES);
        INDArray scores = new DistillationLoss(t, 1.0, 0.0).computeScoreArray(labels, s, SOFTMAX, null);
        for (int i = 0; i < 5; i++) {
            double[] q = softmax(s.getRow(i), t);
            double kl = 0;
            for (int j = 0; j < CLASSES; j++) {
                double p = 0;
                for (int k = 0; k < 3; k++) {
                    p += w[k] * softmax(logits.get(k).getRow(i), t)[j];
                }
                kl += p * Math.log(p / q[j]);
            }
            assertEquals(t * t * kl, scores.getDouble(i, 0), 1e-5, "example " + i);
        }
    }

    @ParameterizedTest(name = "{0} at T={1}")
    @CsvSource({"kd, 1.0", "kd, 4.0", "dkd, 4.0"})
    void gradientsOnEnsembleTargetsMatchFiniteDifferencesThroughANetwork(String method, double t) {
        MultiLayerNetwork net = doubleNet(method.equals("kd") ? new DistillationLoss(t, 0.7, 0.3)
                : new DecoupledKdLoss(t, 1.0, 8.0, 1.0));
        INDArray targets = EnsembleTargets.logits(teachers(8, 5), new double[] {0.7, 0.2, 0.1}, t);
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5).muli(4);
        INDArray labels = DistillationLoss.labels(oneHot(8, 2), targets.castTo(DataType.DOUBLE));
        assertTrue(gradientCheck(net, x, labels), "gradient check failed for " + method + " T=" + t);
    }

    @Test
    void aTeacherSureOfAnotherClassLeavesEveryTargetFinite() {
        INDArray sure = Nd4j.create(new double[][] {{800, 0, 0, 0}});
        INDArray other = Nd4j.create(new double[][] {{0, 900, 0, 0}});
        INDArray z = EnsembleTargets.logits(List.of(sure, other), new double[] {0.5, 0.5}, 1);
        for (double v : z.toDoubleVector()) {
            assertTrue(Double.isFinite(v), z.toString());
        }
        double[] p = softmax(z.getRow(0), 1);
        assertEquals(0.5, p[0], 1e-6);
        assertEquals(0.5, p[1], 1e-6);
    }

    @Test
    void teachersOfOtherClassCountsAreRefusedNamingTheShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EnsembleTargets.logits(
                List.of(Nd4j.zeros(3, 4), Nd4j.zeros(3, 5)), new double[] {0.5, 0.5}, 1));
        assertTrue(e.getMessage().contains("the teachers must give the same classes"), e.getMessage());
    }
}
