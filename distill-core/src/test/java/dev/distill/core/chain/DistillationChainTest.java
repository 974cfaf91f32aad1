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
    void anEnsembleOfADeclaredAndAGivenTeacherTeachesAStudentThroughTheirAveragedProbabilities() {
        Network given = teacherToStudent().build().train().model("teacher").network();
        ChainResult result = DistillationChain.builder().setInput(INPUT).setData(TRAIN, VALIDATION)
                .addTrained("given", given)
                .addModel("teacher", TinyData.mlp(16, 3), TRAINING)
                .addModel("student", TinyData.mlp(4, 3), TRAINING)
                .addEnsemble(DistillationSettings.kd(2, 0.7, 0.3), List.of("given", "teacher"), List.of(0.7, 0.3),
                        "student")
                .optBaseline(true).optSeed(5).build().train();

        assertEquals(List.of("given", "teacher", "student-from-given+teacher", "student-baseline"),
                result.models().stream().map(m -> m.node().id()).toList());
        ChainResult.Trained student = result.model("student-from-given+teacher");
        assertEquals(Chain.Kind.ENSEMBLE, student.node().teachers().kind());
        assertEquals(List.of(0.7, 0.3), student.node().teachers().weights());
        assertEquals(4, student.training().history().size());
        assertTrue(Accuracy.of(student.network(), VALIDATION) > 0.6, "student learnt");
    }

    @Test
    void mutualStudentsTrainTogetherFromDifferentStartsEachWithTheOthersAsTeacher() {
        ChainResult result = DistillationChain.builder().setInput(INPUT).setData(TRAIN, VALIDATION)
                .addModel("a", TinyData.mlp(4, 3), TRAINING)
                .addModel("b", TinyData.mlp(4, 3), TRAINING)
                .addModel("c", TinyData.mlp(8, 3), TRAINING)
                .addMutual(DistillationSettings.DEFAULTS, "a", "b", "c")
                .optBaseline(true).optSeed(5).build().train();

        assertEquals(List.of("a-mutual", "b-mutual", "c-mutual", "a-baseline", "b-baseline", "c-baseline"),
                result.models().stream().map(m -> m.node().id()).toList());
        ChainResult.Trained a = result.model("a-mutual");
        assertEquals("b-mutual+c-mutual", a.node().parentId());
        assertEquals(4, a.training().history().size());
        assertInstanceOf(DistillationLoss.class, outputLayer(a.network()).layerConf().getLossFn());
        // one architecture, two students: they must not start (or end) as the same network
        assertTrue(!a.network().params().equals(result.model("b-mutual").network().params()));
        for (String id : List.of("a-mutual", "b-mutual", "c-mutual")) {
            double accuracy = Accuracy.of(result.model(id).network(), VALIDATION);
            assertTrue(accuracy > 0.6, id + " learnt: " + accuracy);
            assertEquals(result.model(id).training().bestValidationAccuracy(), accuracy, 1e-9,
                    "the best epoch's parameters are the ones returned");
        }
    }

    @Test
    void buildRefusesEnsemblesAndMutualGroupsThatCannotTrain() {
        assertMessage("weights must sum to 1", () -> teacherToStudent().addModel("other", TinyData.mlp(8, 3), TRAINING)
                .addEnsemble(DistillationSettings.DEFAULTS, List.of("teacher", "other"), List.of(0.7, 0.7), "student"));
        assertMessage("1 weights for 2 teachers", () -> teacherToStudent()
                .addEnsemble(DistillationSettings.DEFAULTS, List.of("teacher", "other"), List.of(1.0), "student"));
        assertMessage("at least two teachers", () -> teacherToStudent()
                .addEnsemble(DistillationSettings.DEFAULTS, List.of("teacher"), null, "student"));
        assertMessage("no model named 'techer'", () -> teacherToStudent()
                .addEnsemble(DistillationSettings.DEFAULTS, List.of("teacher", "techer"), null, "student").build());
        assertMessage("at least two students, found 1", () -> teacherToStudent()
                .addMutual(DistillationSettings.DEFAULTS, "student"));
        assertMessage("same epochs and batch_size", () -> teacherToStudent()
                .addModel("short", TinyData.mlp(4, 3), new TrainingSpec(2, 32, Optimizer.ADAM, 1e-2,
                        new LearningRateSchedule.Constant(), 0))
                .addMutual(DistillationSettings.DEFAULTS, "student", "short").build());
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

    @Test
    void buildRefusesALoopAcrossChainsAndABornAgainChainOfAnUnknownModel() {
        assertMessage("chain [student, teacher]: 'student' -> 'teacher' closes a loop", () -> teacherToStudent()
                .addChain(DistillationSettings.DEFAULTS, "student", "teacher").build());
        assertMessage("no model named 'studnet'", () -> teacherToStudent()
                .addBornAgain(DistillationSettings.DEFAULTS, "studnet", 2));
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
