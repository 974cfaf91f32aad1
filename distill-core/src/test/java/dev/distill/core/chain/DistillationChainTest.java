package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.Network;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.junit.jupiter.api.Test;

/** The chain driven from Java alone: no YAML, no CLI, real networks trained on test-made data. */
class DistillationChainTest {

    static final Splits.Pair PARTS = Splits.holdOut(TinyData.blobs(900, 6, 3, 1), 0.2, 2);
    static final LabeledData TRAIN = PARTS.first();
    static final LabeledData VALIDATION = PARTS.second();
    static final InputShape INPUT = InputShape.flat(6);
    static final TrainingSpec TRAINING = new TrainingSpec(4, 32, Optimizer.ADAM, 1e-2,
            new LearningRateSchedule.Constant(), 0);

    static DistillationChain.Builder teacherToStudent() {
        return DistillationChain.builder().setInput(INPUT).setData(TRAIN, VALIDATION)
                .addModel("teacher", TinyData.mlp(32, 3), TRAINING)
                .addModel("student", TinyData.mlp(4, 3), TRAINING)
                .addChain(DistillationSettings.kd(2, 0.7, 0.3), "teacher", "student")
                .optSeed(5);
    }

    @Test
    void aTeacherAndAStudentDistilledWithKdFromJavaAloneGiveATrainedStudentAndItsResult() {
        ChainResult result = teacherToStudent().optBaseline(true).build().train();

        assertEquals(List.of("teacher", "student-from-teacher", "student-baseline"),
                result.models().stream().map(m -> m.node().id()).toList());
        ChainResult.Trained student = result.model("student-from-teacher");
        assertEquals(Role.STUDENT, student.node().role());
        assertEquals(4, student.training().history().size(), "one entry per epoch");
        // trained with the link's loss, not plain cross-entropy
        DistillationLoss loss = assertInstanceOf(DistillationLoss.class, outputLayer(student.network()).layerConf()
                .getLossFn());
        assertEquals(2.0, loss.temperature());
        double teacherAccuracy = Accuracy.of(result.model("teacher").network(), VALIDATION);
        double studentAccuracy = Accuracy.of(student.network(), VALIDATION);
        assertTrue(teacherAccuracy > 0.8, "teacher learnt: " + teacherAccuracy);
        assertTrue(studentAccuracy > 0.6, "student learnt: " + studentAccuracy);
        assertEquals(student.training().bestValidationAccuracy(), studentAccuracy, 1e-9,
                "the best epoch's parameters are the ones returned");
    }

    /** The README's example, line for line (its data made here): if this stops compiling, so does the README. */
    @Test
    void theReadmeExampleTrainsAStudent() {
        Splits.Pair parts = Splits.holdOut(TinyData.blobs(600, 64, 10, 3), 0.2, 4);
        LabeledData train = parts.first();
        LabeledData validation = parts.second();
        TrainingSpec training = new TrainingSpec(10, 64, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0);
        ChainResult result = DistillationChain.builder()
                .setInput(InputShape.flat(64)).setData(train, validation)      // LabeledData: float [n, 64], labels, classes
                .addModel("teacher", new ModelSpec(List.of(new LayerSpec.Dense(256, Activation.RELU), new LayerSpec.Output(10))), training)
                .addModel("student", new ModelSpec(List.of(new LayerSpec.Dense(16, Activation.RELU), new LayerSpec.Output(10))), training)
                .addChain(DistillationSettings.DEFAULTS, "teacher", "student")   // kd: T=1, soft 0.5, hard 0.5; or dkd(...)
                .optBaseline(true).build().train();                              // build() checks every part first
        Network student = result.model("student-from-teacher").network();       // trained; .training() has its epochs
        assertTrue(Accuracy.of(student, validation) > 0.5, "student: " + Accuracy.of(student, validation));
    }

    @Test
    void trainingTheSameChainTwiceGivesBitIdenticalStudents() {
        Network first = teacherToStudent().build().train().model("student-from-teacher").network();
        Network second = teacherToStudent().build().train().model("student-from-teacher").network();
        assertEquals(first.params(), second.params());
    }

    @Test
    void aGivenTrainedTeacherTeachesWithoutBeingTrainedAgain() {
        Network teacher = teacherToStudent().build().train().model("teacher").network();
        org.nd4j.linalg.api.ndarray.INDArray before = teacher.params().dup();
        ChainResult result = DistillationChain.builder().setInput(INPUT).setData(TRAIN, VALIDATION)
                .addTrained("teacher", teacher).addModel("student", TinyData.mlp(4, 3), TRAINING)
                .addChain(DistillationSettings.DEFAULTS, "teacher", "student").build().train();
        assertNull(result.model("teacher").training());
        assertEquals(before, teacher.params());
        assertEquals(4, result.model("student-from-teacher").training().history().size());
    }

    @Test
    void aBornAgainChainPlansOneGenerationAfterAnother() {
        Plan plan = DistillationChain.builder().setInput(INPUT).setData(TRAIN, VALIDATION)
                .addModel("net", TinyData.mlp(8, 3), TRAINING)
                .addBornAgain(DistillationSettings.DEFAULTS, "net", 2).build().plan();
        assertEquals(List.of("net", "net_gen1-from-net", "net_gen2-from-net_gen1"),
                plan.nodes().stream().map(Plan.Node::id).toList());
    }

    @Test
    void buildRefusesWhatCannotTrainNamingThePart() {
        assertMessage("setInput", () -> DistillationChain.builder().setData(TRAIN, VALIDATION).build());
        assertMessage("no model named 'studnet'", () -> teacherToStudent()
                .addChain(DistillationSettings.DEFAULTS, "teacher", "studnet").build());
        assertMessage("at least a teacher and a student", () -> teacherToStudent()
                .addChain(DistillationSettings.DEFAULTS, "teacher").build());
        assertMessage("other distillation settings", () -> teacherToStudent()
                .addChain(DistillationSettings.DEFAULTS, "teacher", "student").build());
        assertMessage("6 features but the input", () -> teacherToStudent().setInput(InputShape.flat(7)).build());
        Network trained = teacherToStudent().build().train().model("teacher").network();
        assertMessage("only be the first model", () -> teacherToStudent().addTrained("frozen", trained)
                .addChain(DistillationSettings.DEFAULTS, "teacher", "frozen").build());
        assertMessage("generations must be between 1 and 10", () -> teacherToStudent()
                .addBornAgain(DistillationSettings.DEFAULTS, "student", 11));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    private static BaseOutputLayer<?> outputLayer(Network net) {
        org.deeplearning4j.nn.api.Layer[] layers = net.layers();
        return (BaseOutputLayer<?>) layers[layers.length - 1];
    }
}
