package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * The output layer that evaluates its loss once a step: for softmax cross-entropy (in Java) DL4J's gradients (of
 * the parameters and of the input), score and training up to float rounding, the same bits run to run, and DL4J's
 * own score when no backward pass came first; for other losses DL4J's training bit for bit.
 */
class OnePassOutputLayerTest {

    private static final InputShape IMAGE = InputShape.image(6, 6, 1);
    private static final List<LayerSpec> MLP = List.of(new LayerSpec.Dense(16, Activation.RELU, true),
            new LayerSpec.Output(4));

    private static Network build(List<LayerSpec> layers, ILossFunction loss) {
        return Networks.build(new ModelSpec(layers), IMAGE, new Adam(5e-3), 1e-4, 9, loss);
    }

    private static MultiLayerNetwork mln(Network net) {
        return ((Network.Sequential) net).net();
    }

    private static List<DataSet> batches() {
        Nd4j.getRandom().setSeed(6);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < 12; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 24, IMAGE.size()).subi(0.5);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 24, 4);
            for (int r = 0; r < 24; r++) {
                y.putScalar(r, (x.getDouble(r, 0) > 0 ? 2 : 0) + (x.getDouble(r, 5) > 0 ? 1 : 0), 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        float[] e = expected.ravel().toFloatVector();
        float[] a = actual.ravel().toFloatVector();
        double scale = 1e-3;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tolerance * scale, what + " [" + i + "]");
        }
    }

    @Test
    void gradientsAndScoreAreDl4jsUpToRounding() {
        List<List<LayerSpec>> shapes = List.of(MLP, List.of(
                new LayerSpec.Conv2d(3, 3, 1, LayerSpec.Padding.SAME, Activation.RELU, true),
                new LayerSpec.Dense(8, Activation.RELU, true), new LayerSpec.Output(4)));
        for (List<LayerSpec> shape : shapes) {
            Network own = build(shape, new LossMCXENT());
            Network java = build(shape, new LossMCXENT());
            assertEquals(1, OnePassOutputLayer.install(java));
            assertEquals(1, OnePassOutputLayer.install(java), "installing again changes nothing");
            DataSet batch = batches().get(0);
            var expected = mln(own).calculateGradients(batch.getFeatures(), batch.getLabels(), null, null);
            var actual = mln(java).calculateGradients(batch.getFeatures(), batch.getLabels(), null, null);
            assertClose(expected.getFirst().gradient(), actual.getFirst().gradient(), 1e-6, "parameters");
            assertClose(expected.getSecond(), actual.getSecond(), 1e-6, "input gradient");
            for (Network n : List.of(own, java)) {
                mln(n).setInput(batch.getFeatures());
                mln(n).setLabels(batch.getLabels());
                mln(n).computeGradientAndScore();
            }
            assertEquals(own.score(), java.score(), 1e-6 * own.score(), "the score, with weight decay's term");
            assertEquals(2, ((OnePassOutputLayer) mln(java).getOutputLayer()).onePassBackwardPasses());
        }
    }

    @Test
    void aNetworkTrainsAsDl4jsUpToRoundingTheSameBitsEveryRun() {
        Network own = build(MLP, new LossMCXENT());
        Network java = build(MLP, new LossMCXENT());
        Network again = build(MLP, new LossMCXENT());
        OnePassOutputLayer.install(java);
        OnePassOutputLayer.install(again);
        INDArray before = java.params().dup();
        for (DataSet b : batches()) {
            own.fit(b);
            java.fit(b);
            again.fit(b);
            assertEquals(own.score(), java.score(), 1e-5 * own.score());
        }
        assertFalse(Arrays.equals(before.toFloatVector(), java.params().toFloatVector()), "it trained");
        assertEquals(12, ((OnePassOutputLayer) mln(java).getOutputLayer()).onePassBackwardPasses());
        assertClose(own.params(), java.params(), 1e-4, "parameters after 12 steps");
        assertArrayEquals(java.params().toFloatVector(), again.params().toFloatVector(), 0f, "run to run");
        // a score without a backward pass before it is DL4J's own computation, bit for bit
        DataSet probe = batches().get(3);
        Network plain = build(MLP, new LossMCXENT());
        plain.params().assign(java.params());
        assertEquals(mln(plain).score(probe), mln(java).score(probe), 0.0);
    }

    @Test
    void anotherLossEvaluatedOnceTrainsToDl4jsOwnBits() {
        List<ILossFunction> losses = List.of(new LossMCXENT(Nd4j.createFromArray(1f, 2f, 1f, 0.5f)), new LossMSE());
        for (ILossFunction loss : losses) {
            Network own = build(MLP, loss);
            Network onePass = build(MLP, loss);
            assertEquals(1, OnePassOutputLayer.install(onePass));
            for (DataSet b : batches()) {
                own.fit(b);
                onePass.fit(b);
                assertEquals(own.score(), onePass.score(), 0.0, loss.toString());
            }
            assertEquals(12, ((OnePassOutputLayer) mln(onePass).getOutputLayer()).onePassBackwardPasses());
            assertArrayEquals(own.params().toFloatVector(), onePass.params().toFloatVector(), 0f, loss.toString());
        }
    }

    /** The loss with every class's term, as before zero targets' logs were skipped: the reference for the test below. */
    private static double everyTerm(float[] delta, float[] targets, int rows, int classes, float clipLow,
            float clipHigh) {
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int from = r * classes;
            float max = delta[from];
            for (int i = from + 1; i < from + classes; i++) {
                max = Math.max(max, delta[i]);
            }
            float sum = 0f;
            for (int i = from; i < from + classes; i++) {
                delta[i] = (float) Math.exp(delta[i] - max);
                sum += delta[i];
            }
            for (int i = from; i < from + classes; i++) {
                float p = delta[i] / sum;
                float clipped = p < clipLow ? clipLow : p > clipHigh ? clipHigh : p;
                loss += targets[i] * Math.log(clipped);
                delta[i] = p - targets[i];
            }
        }
        return -loss;
    }

    @Test
    void zeroTargetsSkipTheirLogsWithoutChangingABitOfLossOrGradient() {
        java.util.Random random = new java.util.Random(3);
        int rows = 64;
        int classes = 10;
        int nan = 0;
        for (int trial = 0; trial < 200; trial++) {
            float[] logits = new float[rows * classes];
            float[] targets = new float[rows * classes];
            float spread = trial % 4 == 0 ? 200f : 4f;   // 200: probabilities that underflow to 0
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < classes; c++) {
                    logits[r * classes + c] = (float) random.nextGaussian() * spread;
                }
                int label = random.nextInt(classes);
                for (int c = 0; c < classes; c++) {
                    float t = switch (trial % 3) {
                        case 0 -> c == label ? 1f : 0f;                       // one-hot
                        case 1 -> c == label ? 0.91f : 0.01f;                  // smoothed
                        default -> c == label ? 1f : (c % 2 == 0 ? -0f : 0f);  // negative zeros too
                    };
                    targets[r * classes + c] = t;
                }
            }
            float clip = trial % 2 == 0 ? 0f : 1e-10f;
            float[] expectedDelta = logits.clone();
            float[] actualDelta = logits.clone();
            double expected = everyTerm(expectedDelta, targets, rows, classes, clip, 1f - clip);
            double actual = OnePassOutputLayer.softmaxCrossEntropy(actualDelta, targets, rows, classes, clip, 1f - clip);
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    "trial " + trial + ": " + expected + " vs " + actual);
            assertArrayEquals(expectedDelta, actualDelta, 0f, "trial " + trial);
            nan += Double.isNaN(actual) ? 1 : 0;
        }
        // without clipping, a probability of 0 under a zero target makes the loss NaN, as DL4J's does
        assertEquals(true, nan > 0, "some trials underflowed a probability without clipping");
    }
}
