package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** FitNets' first stage on real (test-made) data: what it trains, what it leaves, and conv hints pooled over space. */
class HintTrainingTest {

    static final TrainingSpec STAGE = new TrainingSpec(6, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0);

    static Network build(ModelSpec spec, InputShape input, long seed) {
        return Networks.build(spec, input, new Adam(1e-2), 0, seed, new LossMCXENT());
    }

    @Test
    void theGuidedLayersLearnTheTeachersHintAndTheOutputLayerIsLeftAlone() {
        Network teacher = DistillationChainTest.teacherToStudent().build().train().model("teacher").network();
        INDArray x = DistillationChainTest.TRAIN.features();
        INDArray hint = HintTraining.features(teacher, 0, x);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {x.rows(), 32}, hint.shape(), "dense 32 -> [n, 32]");
        Network student = build(TinyData.mlp(4, 3), DistillationChainTest.INPUT, 3);
        MultiLayerNetwork mln = ((Network.Sequential) student).net();
        INDArray guided = mln.getLayer(0).params().dup();
        INDArray output = mln.getLayer(1).params().dup();

        TrainingResult stage = HintTraining.pretrain(student, TinyData.mlp(4, 3), DistillationChainTest.INPUT,
                new Hint(0, 0, 0), x, hint, STAGE, 3);

        assertEquals(6, stage.history().size(), "epochs 0: the student's own");
        double first = stage.history().get(0).trainLoss();
        double last = stage.history().get(5).trainLoss();
        assertTrue(last < 0.8 * first, "the hint loss fell: " + first + " -> " + last);
        assertNotEquals(guided, mln.getLayer(0).params(), "the guided layer learnt from the hint");
        assertEquals(output, mln.getLayer(1).params(), "layers after the guided one are the link's to train");
        assertEquals(4 * 6 + 4 + 4 * 3 + 3, student.numParams(), "the regressor is not part of the student");
    }

    @Test
    void aConvTeachersHintIsItsFeatureMapAveragedOverSpace() {
        InputShape image = InputShape.image(4, 4, 1);
        ModelSpec cnn = new ModelSpec(List.of(new LayerSpec.Conv2d(5, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Output(3)));
        Network teacher = build(cnn, image, 1);
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.rand(DataType.FLOAT, 7, 16);
        INDArray hint = HintTraining.features(teacher, 0, x);
        INDArray map = ((Network.Sequential) teacher).net().feedForwardToLayer(0, x, false).get(1);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {7, 5, 4, 4}, map.shape());
        assertTrue(hint.equalsWithEps(map.mean(2, 3), 1e-6), "channel means");
    }

    @Test
    void aHintLayerPastTheTeachersLastHiddenLayerIsOneLine() {
        Network teacher = build(TinyData.mlp(8, 3), DistillationChainTest.INPUT, 1);
        DistillException e = assertThrows(DistillException.class,
                () -> HintTraining.features(teacher, 1, DistillationChainTest.TRAIN.features()));
        assertEquals("hint: teacher_layer 1 does not exist: the teacher has 1 layers before its output (0..0)",
                e.getMessage());
    }

    @Test
    void aChainWithAHintTrainsTheDeclaredStudentAndRefusesLayersThatDoNotExist() {
        DistillationSettings withHint = DistillationSettings.DEFAULTS.withHint(new Hint(0, 0, 2));
        ChainResult r = DistillationChain.builder().setInput(DistillationChainTest.INPUT)
                .setData(DistillationChainTest.TRAIN, DistillationChainTest.VALIDATION)
                .addModel("teacher", TinyData.mlp(32, 3), DistillationChainTest.TRAINING)
                .addModel("student", TinyData.mlp(4, 3), DistillationChainTest.TRAINING)
                .addChain(withHint, "teacher", "student").optSeed(5).build().train();
        ChainResult.Trained student = r.model("student-from-teacher");
        assertEquals(withHint, student.node().distillation());
        assertEquals(4 * 6 + 4 + 4 * 3 + 3, student.network().numParams());
        assertTrue(dev.distill.core.eval.Accuracy.of(student.network(), DistillationChainTest.VALIDATION) > 0.6);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DistillationChain.builder()
                .setInput(DistillationChainTest.INPUT).setData(DistillationChainTest.TRAIN, DistillationChainTest.VALIDATION)
                .addModel("teacher", TinyData.mlp(32, 3), DistillationChainTest.TRAINING)
                .addModel("student", TinyData.mlp(4, 3), DistillationChainTest.TRAINING)
                .addChain(DistillationSettings.DEFAULTS.withHint(new Hint(3, 0, 0)), "teacher", "student").build());
        assertTrue(e.getMessage().contains("student_layer 3 does not exist: the student's layers before its output are "
                + "0..0 (0 dense)"), e.getMessage());
    }

    @Test
    void theJointHintAddsTheWeightedHintGradientToTheGuidedLayersOnly() {
        Network teacher = DistillationChainTest.teacherToStudent().build().train().model("teacher").network();
        INDArray x = DistillationChainTest.TRAIN.features().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 16),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray labels = dev.distill.core.loss.DistillationLoss.labels(
                DistillationChainTest.TRAIN.subset(java.util.stream.IntStream.range(0, 16).toArray()).oneHot(),
                dev.distill.core.train.TeacherLogits.compute(teacher, x));
        MultiLayerNetwork student = ((Network.Sequential) Networks.build(TinyData.mlp(4, 3), DistillationChainTest.INPUT,
                new Adam(1e-2), 0, 3, DistillationSettings.DEFAULTS.loss())).net();
        Hint hint = new Hint(0, 0, 0, Hint.Stage.JOINT, 0.5);
        MultiLayerNetwork regression = HintTraining.regression(student, TinyData.mlp(4, 3), DistillationChainTest.INPUT,
                hint, x, 32, STAGE, 3);
        INDArray u = HintTraining.features(teacher, 0, x);

        regression.setInput(x);
        regression.setLabels(u);
        regression.computeGradientAndScore();
        INDArray hintW = regression.gradient().getGradientFor("0_W").dup();
        student.setInput(x);
        student.setLabels(labels);
        student.computeGradientAndScore();
        INDArray linkW = student.gradient().getGradientFor("0_W").dup();
        INDArray linkOut = student.gradient().getGradientFor("1_W").dup();

        new JointHint(regression, hint, in -> HintTraining.features(teacher, 0, in)).onGradientCalculation(student);

        assertTrue(student.gradient().getGradientFor("0_W").equalsWithEps(linkW.add(hintW.mul(0.5)), 1e-6),
                "guided layer: link gradient + 0.5 x hint gradient");
        assertEquals(linkOut, student.gradient().getGradientFor("1_W"), "the output layer sees the link's loss only");
    }

    @Test
    void aJointHintOfWeightZeroTrainsExactlyAsNoHintAndOfWeightOneOtherwise() {
        INDArray none = jointChain(null);
        assertEquals(none, jointChain(new Hint(0, 0, 0, Hint.Stage.JOINT, 0)));
        assertNotEquals(none, jointChain(new Hint(0, 0, 0, Hint.Stage.JOINT, 1)));
    }

    private static INDArray jointChain(Hint hint) {
        return DistillationChain.builder().setInput(DistillationChainTest.INPUT)
                .setData(DistillationChainTest.TRAIN, DistillationChainTest.VALIDATION)
                .addModel("teacher", TinyData.mlp(32, 3), DistillationChainTest.TRAINING)
                .addModel("student", TinyData.mlp(4, 3), DistillationChainTest.TRAINING)
                .addChain(DistillationSettings.DEFAULTS.withHint(hint), "teacher", "student").optSeed(5).build()
                .train().model("student-from-teacher").network().params();
    }
}
