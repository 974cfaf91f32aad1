package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The training loop on data a small MLP can learn: accuracy, determinism, keeping the best epoch,
 * and distillation from a teacher's cached logits.
 */
class TrainerTest {

    static final LabeledData ALL = TinyData.blobs(900, 6, 3, 1);
    static final Splits.Pair PARTS = Splits.holdOut(ALL, 0.2, 2);
    static final LabeledData TRAIN = PARTS.first();
    static final LabeledData VALIDATION = PARTS.second();
    static final InputShape INPUT = InputShape.flat(6);

    /** A teacher trained once for the distillation tests, and its logits on the training set. */
    static MultiLayerNetwork teacher;
    static INDArray teacherLogits;

    static TrainingSpec spec(int epochs, double lr) {
        return new TrainingSpec(epochs, 32, Optimizer.ADAM, lr, new LearningRateSchedule.Constant(), 0);
    }

    static MultiLayerNetwork mlp(TrainingSpec spec, int hidden, long seed) {
        return NetworkFactory.build(TinyData.mlp(hidden, 3), INPUT, spec.updater(), 0, seed);
    }

    @BeforeAll
    static void trainTeacher() {
        TrainingSpec spec = spec(6, 1e-2);
        teacher = mlp(spec, 16, 7);
        new Trainer(spec, List.of()).fit(teacher, TRAIN.features(), TRAIN.oneHot(), VALIDATION, 7);
        teacherLogits = TeacherLogits.compute(teacher, TRAIN.features());
    }

    /** Records every epoch's metrics and the network's parameters at the end of it. */
    static final class Recorder implements TrainingListener {
        final MultiLayerNetwork net;
        final List<EpochMetrics> metrics = new ArrayList<>();
        final List<INDArray> params = new ArrayList<>();
        final List<Boolean> best = new ArrayList<>();
        int epochsStarted;
        long batches;

        Recorder(MultiLayerNetwork net) {
            this.net = net;
        }

        @Override
        public void epochStarted(int epoch, int epochs, long examples) {
            epochsStarted++;
        }

        @Override
        public void batchDone(long examplesDone, double batchLoss) {
            batches++;
        }

        @Override
        public void epochDone(EpochMetrics m, boolean isBest) {
            metrics.add(m);
            params.add(net.params().dup());
            best.add(isBest);
        }
    }

    @Test
    void mlpTrainedOnBlobsReachesValidationAccuracyAbove90Percent() {
        TrainingSpec spec = spec(8, 1e-2);
        MultiLayerNetwork net = mlp(spec, 16, 3);
        Recorder recorder = new Recorder(net);
        TrainingResult result = new Trainer(spec, List.of(recorder))
                .fit(net, TRAIN.features(), TRAIN.oneHot(), VALIDATION, 3);
        assertTrue(result.bestValidationAccuracy() > 0.9, "validation accuracy " + result.bestValidationAccuracy());
        assertTrue(Accuracy.of(net, VALIDATION) > 0.9);
        assertEquals(8, result.history().size());
        assertEquals(8, recorder.epochsStarted);
        // 720 training examples in batches of 32: 22 full batches and a partial one, every epoch
        assertEquals(8L * 23, recorder.batches);
        assertEquals(8, net.getEpochCount(), "the trainer advances DL4J's epoch counter");
        assertTrue(result.history().get(7).trainLoss() < result.history().get(0).trainLoss(), "loss falls");
        // the kept epoch's accuracy is the best in the history, and it is what the network now scores
        assertEquals(result.history().stream().mapToDouble(EpochMetrics::validationAccuracy).max().orElseThrow(),
                result.bestValidationAccuracy(), 0.0);
        assertEquals(result.history().get(result.bestEpoch() - 1).validationAccuracy(),
                Accuracy.of(net, VALIDATION), 0.0);
    }

    @Test
    void bestEpochsParamsAreKeptNotTheLastEpochs() {
        // validation labels shifted by one class: the better the network fits the training labels, the
        // worse it scores here, so the best validation epoch is an early one, not the last
        int[] shifted = VALIDATION.labels().clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] = (shifted[i] + 1) % 3;
        }
        LabeledData adversarial = new LabeledData(VALIDATION.features(), shifted, 3);
        TrainingSpec spec = spec(5, 3e-3);
        MultiLayerNetwork net = mlp(spec, 16, 4);
        Recorder recorder = new Recorder(net);
        TrainingResult result = new Trainer(spec, List.of(recorder))
                .fit(net, TRAIN.features(), TRAIN.oneHot(), adversarial, 4);
        int best = result.bestEpoch();
        assertTrue(best < 5, "best epoch " + best + " of " + recorder.metrics);
        assertEquals(recorder.params.get(best - 1), net.params(), "the best epoch's parameters are restored");
        assertNotEquals(recorder.params.get(4), net.params(), "not the last epoch's");
        assertEquals(result.history().get(best - 1).validationAccuracy(), Accuracy.of(net, adversarial), 0.0);
        assertEquals(result.bestValidationAccuracy(), Accuracy.of(net, adversarial), 0.0);
        // listeners were told which epochs improved: the first always, the best one too
        assertTrue(recorder.best.get(0));
        assertTrue(recorder.best.get(best - 1));
        for (int e = best; e < 5; e++) {
            assertTrue(!recorder.best.get(e), "epoch " + (e + 1) + " is not an improvement");
        }
    }

    @Test
    void withoutValidationDataTheLastEpochIsKept() {
        TrainingSpec spec = spec(3, 1e-2);
        MultiLayerNetwork net = mlp(spec, 8, 5);
        Recorder recorder = new Recorder(net);
        LabeledData none = TRAIN.subset(new int[0]);
        TrainingResult result = new Trainer(spec, List.of(recorder))
                .fit(net, TRAIN.features(), TRAIN.oneHot(), none, 5);
        assertEquals(3, result.bestEpoch());
        assertEquals(recorder.params.get(2), net.params());
        assertTrue(Double.isNaN(result.history().get(0).validationAccuracy()));
    }

    @Test
    void sameSeedTwiceGivesIdenticalParamsAndAnotherSeedDifferentOnes() {
        // dropout makes the run depend on ND4J's generator as well as on the shuffle
        ModelSpec withDropout = new ModelSpec(List.of(new LayerSpec.Dense(16, Activation.RELU),
                new LayerSpec.Dropout(0.3), new LayerSpec.Output(3)));
        TrainingSpec spec = spec(2, 1e-2);
        long[] seeds = {5, 5, 6};
        INDArray[] params = new INDArray[3];
        double[] losses = new double[3];
        for (int i = 0; i < 3; i++) {
            MultiLayerNetwork net = NetworkFactory.build(withDropout, INPUT, spec.updater(), 0, seeds[i]);
            TrainingResult result = new Trainer(spec, List.of())
                    .fit(net, TRAIN.features(), TRAIN.oneHot(), VALIDATION, seeds[i]);
            params[i] = net.params();
            losses[i] = result.history().get(1).trainLoss();
        }
        assertEquals(params[0], params[1]);
        assertEquals(losses[0], losses[1], 0.0);
        assertNotEquals(params[0], params[2]);
    }

    @Test
    void sameInitialNetworkWithAnotherTrainingSeedEndsElsewhere() {
        // the trainer's seed alone (shuffle order) changes the result: it is really used
        TrainingSpec spec = spec(1, 1e-2);
        MultiLayerNetwork a = mlp(spec, 8, 1);
        MultiLayerNetwork b = mlp(spec, 8, 1);
        new Trainer(spec, List.of()).fit(a, TRAIN.features(), TRAIN.oneHot(), VALIDATION, 1);
        new Trainer(spec, List.of()).fit(b, TRAIN.features(), TRAIN.oneHot(), VALIDATION, 2);
        assertNotEquals(a.params(), b.params());
    }

    @Test
    void studentDistilledFromCachedTeacherLogitsLearns() {
        assertTrue(Accuracy.of(teacher, VALIDATION) > 0.9, "the teacher itself has learned");
        TrainingSpec spec = spec(6, 1e-2);
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(4, 3), INPUT, spec.updater(), 0, 8,
                new DistillationLoss(4, 0.9, 0.1));
        TrainingResult result = new Trainer(spec, List.of()).fit(student, TRAIN.features(),
                DistillationLoss.labels(TRAIN.oneHot(), teacherLogits), VALIDATION, 8);
        assertTrue(result.bestValidationAccuracy() > 0.9, "student " + result.bestValidationAccuracy());
        assertTrue(Accuracy.of(student, VALIDATION) > 0.9);
        assertTrue(TinyData.agreement(Accuracy.predict(teacher, ALL.features()),
                Accuracy.predict(student, ALL.features())) > 0.9, "the student imitates its teacher");
    }

    /** The known answer: at any temperature, a student that already is its teacher has nothing to learn. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(doubles = {1, 4})
    void studentIdenticalToItsTeacherTrainedSoftOnlyKeepsItsPredictions(double temperature) {
        TrainingSpec gentle = spec(2, 1e-3);
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(16, 3), INPUT, gentle.updater(), 0, 10,
                new DistillationLoss(temperature, 1, 0));
        student.setParams(teacher.params().dup());
        new Trainer(gentle, List.of()).fit(student, TRAIN.features(),
                DistillationLoss.labels(TRAIN.oneHot(), teacherLogits), VALIDATION, 10);
        double agreement = TinyData.agreement(Accuracy.predict(teacher, ALL.features()),
                Accuracy.predict(student, ALL.features()));
        assertTrue(agreement > 0.99, "agreement " + agreement);
        // the soft loss starts at its minimum (zero): the parameters barely move
        double drift = student.params().sub(teacher.params()).norm2Number().doubleValue()
                / teacher.params().norm2Number().doubleValue();
        assertTrue(drift < 1e-3, "relative drift " + drift);
    }

    @Test
    void studentIdenticalToItsTeacherTrainedOnShiftedTeacherLogitsMoves() {
        // control for the test above: the same set-up with teacher logits that disagree does move
        TrainingSpec gentle = spec(2, 1e-3);
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(16, 3), INPUT, gentle.updater(), 0, 10,
                new DistillationLoss(1, 1, 0));
        student.setParams(teacher.params().dup());
        INDArray rolled = teacherLogits.getColumns(1, 2, 0);
        new Trainer(gentle, List.of()).fit(student, TRAIN.features(),
                DistillationLoss.labels(TRAIN.oneHot(), rolled), VALIDATION, 10);
        double drift = student.params().sub(teacher.params()).norm2Number().doubleValue()
                / teacher.params().norm2Number().doubleValue();
        assertTrue(drift > 1e-2, "relative drift " + drift);
    }

    @Test
    void targetsWithAnotherNumberOfRowsAreRejected() {
        TrainingSpec spec = spec(1, 1e-2);
        MultiLayerNetwork net = mlp(spec, 4, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(spec, List.of())
                .fit(net, TRAIN.features(), VALIDATION.oneHot(), VALIDATION, 1));
        assertTrue(e.getMessage().contains("targets"), e.getMessage());
    }
}
