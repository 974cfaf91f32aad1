package dev.distill.core.loss;

import static dev.distill.core.loss.DistillationLossTest.CLASSES;
import static dev.distill.core.loss.DistillationLossTest.SOFTMAX;
import static dev.distill.core.loss.DistillationLossTest.assertGradientMatchesCentralDifferences;
import static dev.distill.core.loss.DistillationLossTest.doubleNet;
import static dev.distill.core.loss.DistillationLossTest.gradientCheck;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** FitNets' hint loss against finite differences (through a DL4J network in double, and on its inputs) and its formula. */
class HintLossTest {

    static INDArray hints(int rows, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, rows, CLASSES).muli(2);
    }

    @Test
    void hintLossGradientMatchesFiniteDifferencesThroughANetwork() {
        MultiLayerNetwork net = doubleNet(new HintLoss());
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5).muli(4);
        assertTrue(gradientCheck(net, x, hints(8, 3)), "gradient check failed");
    }

    @Test
    void computeGradientMatchesCentralDifferencesOfComputeScoreArray() {
        Nd4j.getRandom().setSeed(4);
        assertGradientMatchesCentralDifferences(new HintLoss(), hints(6, 5), Nd4j.randn(DataType.DOUBLE, 6, CLASSES));
    }

    @Test
    void theScoreIsHalfTheSquaredDistanceToTheHintPerExample() {
        INDArray hint = Nd4j.create(new double[][] {{1, 2, 3, 4}, {0, 0, 0, 0}});
        INDArray regressed = Nd4j.create(new double[][] {{1, 2, 3, 6}, {1, -1, 1, -1}});
        INDArray scores = new HintLoss().computeScoreArray(hint, regressed, SOFTMAX, null);
        assertEquals(2.0, scores.getDouble(0, 0), 1e-12);
        assertEquals(2.0, scores.getDouble(1, 0), 1e-12);
        assertEquals(2.0, new HintLoss().computeScore(hint, regressed, SOFTMAX, null, true), 1e-12);
        assertEquals(regressed.sub(hint), new HintLoss().computeGradient(hint, regressed, SOFTMAX, null));
    }
}
