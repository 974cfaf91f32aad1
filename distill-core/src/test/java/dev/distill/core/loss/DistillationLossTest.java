package dev.distill.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The distillation loss against finite differences (through a whole DL4J network in double
 * precision, and directly on the logits), against a hand computation of its formula, against
 * DL4J's cross-entropy where the two must agree, and on the cases with a known answer.
 */
class DistillationLossTest {

    static final int CLASSES = 4;
    static final IActivation SOFTMAX = new ActivationSoftmax();

    /** A small double-precision MLP (5 -> 6 tanh -> 4 softmax) with the given output loss and no updater. */
    static MultiLayerNetwork doubleNet(ILossFunction loss) {
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

    /** One-hot rows whose classes cycle with an offset, in double. */
    static INDArray oneHot(int rows, int offset) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, rows, CLASSES);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, (i * 3 + offset) % CLASSES, 1.0);
        }
        return y;
    }

    /** Runs DL4J's gradient check with the settings known to work here (double, eps 1e-6, max rel error 1e-5). */
    static boolean gradientCheck(MultiLayerNetwork net, INDArray x, INDArray labels) {
        // GradientCheckUtil refuses to run unless double is ND4J's default type; other tests expect float back
        DataType before = Nd4j.dataType();
        DataType beforeFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig()
                    .net(net).input(x).labels(labels)
                    .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-8)
                    .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        } finally {
            Nd4j.setDefaultDataTypes(before, beforeFloat);
        }
    }

    static INDArray wideLabels(int rows, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray teacher = Nd4j.randn(DataType.DOUBLE, rows, CLASSES).muli(3);
        return DistillationLoss.labels(oneHot(rows, (int) seed), teacher);
    }

    @ParameterizedTest(name = "T={0} soft={1} hard={2}")
    @CsvSource({"1.0, 0.5, 0.5", "4.0, 0.9, 0.1", "1.0, 1.0, 0.0", "2.5, 1.0, 0.0", "8.0, 0.0, 1.0"})
    void distillationLossGradientMatchesFiniteDifferencesThroughANetwork(double t, double soft, double hard) {
        MultiLayerNetwork net = doubleNet(new DistillationLoss(t, soft, hard));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5).muli(4);
        assertTrue(gradientCheck(net, x, wideLabels(8, 1)), "gradient check failed for T=" + t);
    }

    /** The same loss with its gradient scaled by 1.05: the check above must be able to fail. */
    public static final class WrongGradient implements ILossFunction {
        @JsonProperty("inner")
        private DistillationLoss inner = new DistillationLoss(4, 0.9, 0.1);

        public WrongGradient() {
        }

        @Override
        public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation fn, INDArray mask) {
            return inner.computeScoreArray(labels, preOutput, fn, mask);
        }

        @Override
        public double computeScore(INDArray labels, INDArray preOutput, IActivation fn, INDArray mask,
                boolean average) {
            return inner.computeScore(labels, preOutput, fn, mask, average);
        }

        @Override
        public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation fn, INDArray mask) {
            return inner.computeGradient(labels, preOutput, fn, mask).muli(1.05);
        }

        @Override
        public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation fn,
                INDArray mask, boolean average) {
            return new Pair<>(computeScore(labels, preOutput, fn, mask, average),
                    computeGradient(labels, preOutput, fn, mask));
        }

        @Override
        public String name() {
            return "WrongGradient";
        }
    }

    @Test
    void aStudentWhoseOutputLayerEvaluatesTheLossOnceAStepTrainsToTheSameBits() {
        java.util.List<dev.distill.models.spec.LayerSpec> layers = java.util.List.of(
                new dev.distill.models.spec.LayerSpec.Dense(12, dev.distill.models.spec.Activation.RELU, true),
                new dev.distill.models.spec.LayerSpec.Output(4));
        dev.distill.models.network.Network[] nets = new dev.distill.models.network.Network[2];
        for (int k = 0; k < 2; k++) {
            nets[k] = dev.distill.models.network.Networks.build(new dev.distill.models.spec.ModelSpec(layers),
                    dev.distill.models.spec.InputShape.image(3, 3, 1), new org.nd4j.linalg.learning.config.Adam(1e-2),
                    0, 5, new DistillationLoss(4, 0.9, 0.1));
        }
        assertEquals(1, dev.distill.models.network.OnePassOutputLayer.install(nets[1]));
        Nd4j.getRandom().setSeed(12);
        for (int step = 0; step < 10; step++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 16, 9);
            INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 16, 4);
            for (int r = 0; r < 16; r++) {
                oneHot.putScalar(r, r % 4, 1f);
            }
            INDArray teacher = Nd4j.randn(DataType.FLOAT, 16, 4).muli(3);
            DataSet batch = new DataSet(x, DistillationLoss.labels(oneHot, teacher));
            nets[0].fit(batch);
            nets[1].fit(batch);
            assertEquals(nets[0].score(), nets[1].score(), 0.0);
        }
        assertTrue(java.util.Arrays.equals(nets[0].params().toFloatVector(), nets[1].params().toFloatVector()));
    }

    @Test
    void gradientCheckCatchesAGradientOffByFivePercent() {
        MultiLayerNetwork net = doubleNet(new WrongGradient());
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 8, 5).subi(0.5).muli(4);
        assertFalse(gradientCheck(net, x, wideLabels(8, 1)));
    }

    @ParameterizedTest(name = "T={0} soft={1} hard={2}")
    @CsvSource({"3.0, 0.7, 0.3", "1.0, 0.0, 1.0", "0.5, 1.0, 0.0", "20.0, 0.9, 0.1"})
    void computeGradientMatchesCentralDifferencesOfComputeScoreArray(double t, double soft, double hard) {
        DistillationLoss loss = new DistillationLoss(t, soft, hard);
        Nd4j.getRandom().setSeed(5);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2);
        INDArray labels = DistillationLoss.labels(oneHot(6, 2), Nd4j.randn(DataType.DOUBLE, 6, CLASSES).muli(2));
        assertGradientMatchesCentralDifferences(loss, labels, logits);
    }

    /** The loss's gradient against central differences of its per-example scores, logit by logit. */
    static void assertGradientMatchesCentralDifferences(ILossFunction loss, INDArray labels, INDArray logits) {
        INDArray analytic = loss.computeGradient(labels, logits, SOFTMAX, null);
        INDArray before = logits.dup();
        double eps = 1e-6;
        for (int i = 0; i < logits.rows(); i++) {
            for (int c = 0; c < logits.columns(); c++) {
                INDArray plus = logits.dup();
                plus.putScalar(i, c, plus.getDouble(i, c) + eps);
                INDArray minus = logits.dup();
                minus.putScalar(i, c, minus.getDouble(i, c) - eps);
                // per-example scores: only row i depends on s[i, c]
                double numeric = (loss.computeScoreArray(labels, plus, SOFTMAX, null).getDouble(i, 0)
                        - loss.computeScoreArray(labels, minus, SOFTMAX, null).getDouble(i, 0)) / (2 * eps);
                assertEquals(numeric, analytic.getDouble(i, c), 1e-6 * Math.max(1, Math.abs(numeric)),
                        "d/ds[" + i + "," + c + "]");
            }
        }
        assertEquals(before, logits, "the loss must not modify the logits it is given");
    }

    @Test
    void scoreAndGradientMatchAHandComputationOfTheFormula() {
        double t = 2;
        double soft = 0.7;
        double hard = 0.3;
        double[] s = {1.0, 2.0, 0.5, -1.0};
        double[] teacher = {0.3, -1.0, 2.0, 0.0};
        int label = 1;
        double[] pT = softmax(teacher, t);
        double[] qT = softmax(s, t);
        double[] q = softmax(s, 1);
        double kl = 0;
        for (int c = 0; c < CLASSES; c++) {
            kl += pT[c] * Math.log(pT[c] / qT[c]);
        }
        double expected = soft * t * t * kl - hard * Math.log(q[label]);

        INDArray y = Nd4j.zeros(DataType.DOUBLE, 1, CLASSES).putScalar(0, label, 1.0);
        INDArray labels = DistillationLoss.labels(y, Nd4j.createFromArray(new double[][] {teacher}));
        INDArray logits = Nd4j.createFromArray(new double[][] {s});
        DistillationLoss loss = new DistillationLoss(t, soft, hard);
        assertEquals(expected, loss.computeScoreArray(labels, logits, SOFTMAX, null).getDouble(0, 0), 1e-12);
        assertEquals(expected, loss.computeScore(labels, logits, SOFTMAX, null, true), 1e-12);
        INDArray gradient = loss.computeGradient(labels, logits, SOFTMAX, null);
        for (int c = 0; c < CLASSES; c++) {
            double g = soft * t * (qT[c] - pT[c]) + hard * (q[c] - (c == label ? 1 : 0));
            assertEquals(g, gradient.getDouble(0, c), 1e-12, "class " + c);
        }
    }

    private static double[] softmax(double[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] / t - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    @Test
    void atTemperatureOneHardOnlyEqualsDl4jCrossEntropy() {
        Nd4j.getRandom().setSeed(3);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 10, CLASSES).muli(3);
        INDArray y = oneHot(10, 3);
        INDArray labels = DistillationLoss.labels(y, Nd4j.randn(DataType.DOUBLE, 10, CLASSES));
        DistillationLoss hardOnly = new DistillationLoss(1.0, 0.0, 1.0);
        LossMCXENT ce = new LossMCXENT();
        for (boolean average : new boolean[] {true, false}) {
            double ours = hardOnly.computeScore(labels, logits, SOFTMAX, null, average);
            double dl4j = ce.computeScore(y, logits.dup(), new ActivationSoftmax(), null, average);
            assertEquals(dl4j, ours, 1e-6, "average=" + average);
        }
        INDArray ourGradient = hardOnly.computeGradient(labels, logits, SOFTMAX, null);
        INDArray dl4jGradient = ce.computeGradient(y, logits.dup(), new ActivationSoftmax(), null);
        assertTrue(ourGradient.equalsWithEps(dl4jGradient, 1e-9));
    }

    @Test
    void atTemperatureOneHardOnlyNetworkScoreEqualsTheSameNetworkWithCrossEntropy() {
        MultiLayerNetwork kd = doubleNet(new DistillationLoss(1.0, 0.0, 1.0));
        MultiLayerNetwork ce = doubleNet(new LossMCXENT());
        assertEquals(kd.params(), ce.params(), "same seed, same initial weights");
        Nd4j.getRandom().setSeed(12);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 16, 5).subi(0.5).muli(4);
        INDArray y = oneHot(16, 1);
        INDArray wide = DistillationLoss.labels(y, Nd4j.randn(DataType.DOUBLE, 16, CLASSES));
        assertEquals(ce.score(new DataSet(x, y)), kd.score(new DataSet(x, wide)), 1e-6);
    }

    @Test
    void klTermVanishesWhenTeacherLogitsEqualStudentLogits() {
        Nd4j.getRandom().setSeed(4);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 5, CLASSES).muli(4);
        INDArray labels = DistillationLoss.labels(oneHot(5, 4), logits.dup());
        for (double t : new double[] {1, 4}) {
            DistillationLoss softOnly = new DistillationLoss(t, 1.0, 0.0);
            INDArray scores = softOnly.computeScoreArray(labels, logits, SOFTMAX, null);
            assertEquals(0.0, scores.norm1Number().doubleValue(), 1e-12, "T=" + t);
            assertEquals(0.0, softOnly.computeGradient(labels, logits, SOFTMAX, null)
                    .norm2Number().doubleValue(), 1e-12, "T=" + t);
        }
        // and it is positive as soon as they differ
        INDArray other = DistillationLoss.labels(oneHot(5, 4), logits.add(Nd4j.randn(DataType.DOUBLE, 5, CLASSES)));
        assertTrue(new DistillationLoss(4, 1, 0).computeScoreArray(other, logits, SOFTMAX, null)
                .minNumber().doubleValue() > 0);
    }

    @Test
    void scoreAndGradientAreInvariantToAConstantAddedToTheTeacherLogits() {
        Nd4j.getRandom().setSeed(6);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 5, CLASSES);
        INDArray teacher = Nd4j.randn(DataType.DOUBLE, 5, CLASSES);
        INDArray y = oneHot(5, 5);
        DistillationLoss loss = new DistillationLoss(2.0, 0.9, 0.1);
        INDArray shiftedTeacher = teacher.addColumnVector(Nd4j.createFromArray(new double[][] {{100}, {-50}, {3},
                {0}, {1e3}}));
        INDArray a = loss.computeScoreArray(DistillationLoss.labels(y, teacher), logits, SOFTMAX, null);
        INDArray b = loss.computeScoreArray(DistillationLoss.labels(y, shiftedTeacher), logits, SOFTMAX, null);
        assertTrue(a.equalsWithEps(b, 1e-9), a + " vs " + b);
        assertTrue(loss.computeGradient(DistillationLoss.labels(y, teacher), logits, SOFTMAX, null)
                .equalsWithEps(loss.computeGradient(DistillationLoss.labels(y, shiftedTeacher), logits, SOFTMAX,
                        null), 1e-9));
    }

    @Test
    void largeLogitsDoNotOverflow() {
        INDArray logits = Nd4j.createFromArray(new double[][] {{1000, -1000, 0, 500}});
        INDArray teacher = Nd4j.createFromArray(new double[][] {{-800, 900, 0, 10}});
        INDArray labels = DistillationLoss.labels(oneHot(1, 0), teacher);
        DistillationLoss loss = new DistillationLoss(1, 0.5, 0.5);
        double score = loss.computeScore(labels, logits, SOFTMAX, null, true);
        assertTrue(Double.isFinite(score), "score " + score);
        assertFalse(loss.computeGradient(labels, logits, SOFTMAX, null).isNaN().any());
    }

    @Test
    void perExampleMaskRemovesMaskedExamples() {
        Nd4j.getRandom().setSeed(8);
        INDArray logits = Nd4j.randn(DataType.DOUBLE, 4, CLASSES);
        INDArray labels = DistillationLoss.labels(oneHot(4, 6), Nd4j.randn(DataType.DOUBLE, 4, CLASSES));
        DistillationLoss loss = new DistillationLoss(4.0, 0.9, 0.1);
        INDArray mask = Nd4j.createFromArray(new double[][] {{1}, {0}, {1}, {0}});
        INDArray scores = loss.computeScoreArray(labels, logits, SOFTMAX, mask);
        INDArray unmasked = loss.computeScoreArray(labels, logits, SOFTMAX, null);
        assertEquals(0.0, scores.getDouble(1, 0), 0.0);
        assertEquals(unmasked.getDouble(0, 0), scores.getDouble(0, 0), 0.0);
        assertTrue(scores.getDouble(0, 0) > 0);
        INDArray gradient = loss.computeGradient(labels, logits, SOFTMAX, mask);
        assertEquals(0.0, gradient.getRow(3).norm2Number().doubleValue(), 0.0);
        assertTrue(gradient.getRow(2).norm2Number().doubleValue() > 0);
    }

    @Test
    void labelsThatAreNotTwiceAsWideAsTheOutputAreRejected() {
        DistillationLoss loss = new DistillationLoss();
        INDArray logits = Nd4j.zeros(DataType.DOUBLE, 2, CLASSES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScore(oneHot(2, 0), logits, SOFTMAX, null, true));
        assertTrue(e.getMessage().contains("teacher logits"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> DistillationLoss.labels(oneHot(2, 0), Nd4j.zeros(DataType.DOUBLE, 3, CLASSES)));
    }

    @Test
    void wideLabelsAreOneHotThenTeacherLogits() {
        INDArray y = oneHot(3, 0);
        INDArray t = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}});
        INDArray wide = DistillationLoss.labels(y, t);
        assertEquals(DataType.DOUBLE, wide.dataType());
        assertEquals(y, wide.getColumns(0, 1, 2, 3));
        assertEquals(t.castTo(DataType.DOUBLE), wide.getColumns(4, 5, 6, 7));
    }

    @Test
    void constructorRejectsNonPositiveTemperatureAndBothWeightsZero() {
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0, 0.9, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(-1, 0.9, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(Double.NaN, 0.9, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(Double.POSITIVE_INFINITY, 0.9, 0.1));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> new DistillationLoss(4, 0, 0));
        assertTrue(zero.getMessage().contains("must not both be zero"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(4, -0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(4, 1, Double.NaN));
        DistillationLoss ok = new DistillationLoss(0.5, 0, 1);
        assertEquals(0.5, ok.temperature());
    }

    @Test
    void networkWithTheLossRoundTripsThroughModelSerializerKeepingTemperatureAndWeights(@TempDir Path dir)
            throws Exception {
        MultiLayerNetwork net = doubleNet(new DistillationLoss(2.5, 0.8, 0.2));
        File file = dir.resolve("kd.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file, true);
        BaseOutputLayer out = (BaseOutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        DistillationLoss loss = assertInstanceOf(DistillationLoss.class, out.getLossFn());
        assertEquals(2.5, loss.temperature());
        assertEquals(0.8, loss.softWeight());
        assertEquals(0.2, loss.hardWeight());
        assertEquals(net.params(), restored.params());
        // the restored loss scores like the original (not, e.g., the no-argument defaults)
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 6, 5);
        DataSet data = new DataSet(x, wideLabels(6, 2));
        assertEquals(net.score(data), restored.score(data), 1e-12);
    }

    @Test
    void aBatchChangedSinceTheScoreGetsItsOwnGradient() {
        // the loss remembers the last batch for DL4J's score-then-gradient pair; a changed batch must miss
        Nd4j.getRandom().setSeed(31);
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 6, 4);
        for (int i = 0; i < 6; i++) {
            oneHot.putScalar(i, i % 4, 1f);
        }
        INDArray labels = DistillationLoss.labels(oneHot, Nd4j.randn(DataType.FLOAT, 6, 4));
        INDArray logits = Nd4j.randn(DataType.FLOAT, 6, 4);
        DistillationLoss loss = new DistillationLoss(3, 0.7, 0.3);
        IActivation softmax = new ActivationSoftmax();
        loss.computeScore(labels, logits, softmax, null, true);
        logits.muli(2);                                       // the same array, new values
        INDArray expected = new DistillationLoss(3, 0.7, 0.3).computeGradient(labels, logits, softmax, null);
        assertEquals(expected, loss.computeGradient(labels, logits, softmax, null));
        INDArray otherLabels = DistillationLoss.labels(oneHot, Nd4j.randn(DataType.FLOAT, 6, 4));
        assertEquals(new DistillationLoss(3, 0.7, 0.3).computeGradient(otherLabels, logits, softmax, null),
                loss.computeGradient(otherLabels, logits, softmax, null));
        // and the pair DL4J makes gives what two fresh losses give
        assertEquals(new DistillationLoss(3, 0.7, 0.3).computeScore(otherLabels, logits, softmax, null, false),
                loss.computeScore(otherLabels, logits, softmax, null, false));
    }
}
