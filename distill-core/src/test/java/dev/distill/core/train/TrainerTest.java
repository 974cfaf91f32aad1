package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.models.build.NetworkFactory;
import dev.distill.models.spec.InputShape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The training loop on data it can learn, distillation from cached logits, and the files it saves. */
class TrainerTest {

    static final LabeledData ALL = TinyData.blobs(900, 6, 3, 1);
    static final Splits.Pair PARTS = Splits.holdOut(ALL, 0.2, 2);
    static final InputShape INPUT = InputShape.flat(6);

    static TrainingSpec spec(int epochs, double lr) {
        return new TrainingSpec(epochs, 32, Optimizer.ADAM, lr, new LearningRateSchedule.Constant(), 0);
    }

    static MultiLayerNetwork net(TrainingSpec spec, long seed) {
        return NetworkFactory.build(TinyData.mlp(16, 3), INPUT, spec.updater(), 0, seed);
    }

    @Test
    void mlpLearnsSeparableClustersAndKeepsItsBestEpoch() {
        TrainingSpec spec = spec(8, 1e-2);
        MultiLayerNetwork net = net(spec, 3);
        List<EpochMetrics> seen = new ArrayList<>();
        TrainingResult result = new Trainer(spec, List.of(new TrainingListener() {
            @Override
            public void epochDone(EpochMetrics metrics, boolean best) {
                seen.add(metrics);
            }
        })).fit(net, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 3);
        assertEquals(8, seen.size());
        assertTrue(result.bestValidationAccuracy() > 0.9, "val " + result.bestValidationAccuracy());
        // the network handed back is the best epoch's, not the last one's
        assertEquals(result.bestValidationAccuracy(), Accuracy.of(net, PARTS.second()), 0.0);
        assertEquals(seen.stream().mapToDouble(EpochMetrics::validationAccuracy).max().orElseThrow(),
                result.bestValidationAccuracy(), 0.0);
        assertTrue(seen.get(seen.size() - 1).trainLoss() < seen.get(0).trainLoss(), "loss falls");
    }

    @Test
    void sameSeedGivesIdenticalParameters() {
        TrainingSpec spec = spec(2, 1e-2);
        INDArray[] params = new INDArray[3];
        long[] seeds = {5, 5, 6};
        for (int i = 0; i < 3; i++) {
            MultiLayerNetwork net = net(spec, seeds[i]);
            new Trainer(spec, List.of()).fit(net, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(),
                    seeds[i]);
            params[i] = net.params();
        }
        assertEquals(params[0], params[1]);
        assertNotEquals(params[0], params[2]);
    }

    @Test
    void studentLearnsFromCachedTeacherLogits() {
        TrainingSpec spec = spec(6, 1e-2);
        MultiLayerNetwork teacher = net(spec, 7);
        new Trainer(spec, List.of()).fit(teacher, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 7);
        INDArray logits = TeacherLogits.compute(teacher, PARTS.first().features());
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(4, 3), INPUT, spec.updater(), 0, 8,
                new DistillationLoss(4, 0.9, 0.1));
        new Trainer(spec, List.of()).fit(student, PARTS.first().features(),
                DistillationLoss.labels(PARTS.first().oneHot(), logits), PARTS.second(), 8);
        assertTrue(Accuracy.of(student, PARTS.second()) > 0.9);
    }

    @Test
    void studentIdenticalToItsTeacherStaysWhereItIs() {
        TrainingSpec spec = spec(4, 1e-2);
        MultiLayerNetwork teacher = net(spec, 9);
        new Trainer(spec, List.of()).fit(teacher, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 9);
        INDArray logits = TeacherLogits.compute(teacher, PARTS.first().features());
        TrainingSpec gentle = spec(2, 1e-3);
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(16, 3), INPUT, gentle.updater(), 0, 10,
                new DistillationLoss(1, 1, 0));
        student.setParams(teacher.params().dup());
        new Trainer(gentle, List.of()).fit(student, PARTS.first().features(),
                DistillationLoss.labels(PARTS.first().oneHot(), logits), PARTS.second(), 10);
        // the soft loss is at its minimum (zero) where it starts: the parameters barely move
        double drift = student.params().sub(teacher.params()).norm2Number().doubleValue()
                / teacher.params().norm2Number().doubleValue();
        assertTrue(drift < 1e-3, "relative drift " + drift);
        int[] a = Accuracy.predict(teacher, ALL.features());
        int[] b = Accuracy.predict(student, ALL.features());
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        assertTrue(same >= 0.99 * a.length, same + " of " + a.length + " predictions kept");
    }

    @Test
    void teacherLogitsAreTheInputsOfItsSoftmax() {
        MultiLayerNetwork teacher = net(spec(1, 1e-2), 11);
        INDArray logits = TeacherLogits.compute(teacher, ALL.features());
        INDArray probabilities = teacher.output(ALL.features(), false);
        assertTrue(Transforms.softmax(logits, true).equalsWithEps(probabilities, 1e-5));
        assertEquals(ALL.size(), logits.rows());
    }

    @Test
    void shippedModelHasPlainCrossEntropyAndTheSameOutputs(@TempDir Path dir) throws Exception {
        MultiLayerNetwork student = NetworkFactory.build(TinyData.mlp(4, 3), INPUT, spec(1, 1e-2).updater(), 0, 12,
                new DistillationLoss(2, 0.5, 0.5));
        Path file = dir.resolve("student.zip");
        ModelFiles.saveForShipping(student, file);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false);
        BaseOutputLayer out = (BaseOutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertTrue(out.getLossFn() instanceof LossMCXENT);
        assertEquals(student.output(ALL.features()), restored.output(ALL.features()));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void holdOutSplitsAreDeterministicAndDisjoint() {
        Splits.Pair a = Splits.holdOut(ALL, 0.25, 4);
        Splits.Pair b = Splits.holdOut(ALL, 0.25, 4);
        Splits.Pair c = Splits.holdOut(ALL, 0.25, 5);
        assertEquals(225, a.second().size());
        assertEquals(675, a.first().size());
        assertEquals(a.second().features(), b.second().features());
        assertNotEquals(a.second().features(), c.second().features());
        assertEquals(ALL.features().sumNumber().doubleValue(),
                a.first().features().sumNumber().doubleValue() + a.second().features().sumNumber().doubleValue(),
                1e-2);
    }
}
