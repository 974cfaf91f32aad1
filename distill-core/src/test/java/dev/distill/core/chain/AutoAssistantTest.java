package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.testing.TinyData;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The automatic teacher assistant from Java: its family of candidates (the student's layers made wider, widths
 * between the student's and the teacher's), the rules that refuse a family or a place in a chain, and a real
 * chain that trains every candidate and keeps the one whose student validates best.
 */
class AutoAssistantTest {

    static final ModelSpec STUDENT = new ModelSpec(List.of(new LayerSpec.Dense(16, Activation.RELU),
            new LayerSpec.Output(10)));
    static final ModelSpec TEACHER = new ModelSpec(List.of(
            new LayerSpec.Conv2d(32, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
            new LayerSpec.Dense(128, Activation.RELU), new LayerSpec.Output(10)));

    @Test
    void aCountSpacesWidthsGeometricallyBetweenTheStudentsWidestLayerAndTheTeachers() {
        List<AssistantFamily.Candidate> c = AssistantFamily.count(2).candidates(STUDENT, TEACHER);
        assertEquals(List.of("w32", "w64"), c.stream().map(AssistantFamily.Candidate::label).toList());
        assertEquals(new ModelSpec(List.of(new LayerSpec.Dense(64, Activation.RELU), new LayerSpec.Output(10))),
                c.get(1).network(), "the student's depth and activations, its width scaled, its output kept");
        assertEquals(List.of(23, 32, 45, 64, 91), AssistantFamily.count(5).candidates(STUDENT, TEACHER).stream()
                .map(AssistantFamily.Candidate::width).toList());
    }

    @Test
    void everyHiddenWidthOfAConvStudentScalesByTheSameFactor() {
        ModelSpec conv = new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2), new LayerSpec.Dense(8, Activation.RELU),
                new LayerSpec.Output(10)));
        ModelSpec wider = AssistantFamily.widths(List.of(24)).candidates(conv, TEACHER).get(0).network();
        assertEquals(List.of(new LayerSpec.Conv2d(12, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2), new LayerSpec.Dense(24, Activation.RELU),
                new LayerSpec.Output(10)), wider.layers());
    }

    @Test
    void familiesWithNothingToTryAreRefusedSayingWhy() {
        ModelSpec near = new ModelSpec(List.of(new LayerSpec.Dense(17, Activation.RELU), new LayerSpec.Output(10)));
        assertTrue(message(() -> AssistantFamily.count(2).candidates(STUDENT, near)).startsWith("no room for an assistant"));
        assertTrue(message(() -> AssistantFamily.widths(List.of())).startsWith("an empty family"));
        assertTrue(message(() -> AssistantFamily.count(0)).startsWith("count must be at least 1"));
        assertTrue(message(() -> AssistantFamily.count(9)).startsWith("at most 8 candidates"));
        assertTrue(message(() -> AssistantFamily.widths(List.of(32, 32))).contains("listed twice"));
        assertTrue(message(() -> AssistantFamily.widths(List.of(200)).candidates(STUDENT, TEACHER))
                .startsWith("width 200 is not between"));
        assertTrue(message(() -> AssistantFamily.count(2).candidates(STUDENT, null)).contains("list the candidates' widths"));
        ModelSpec twenty = new ModelSpec(List.of(new LayerSpec.Dense(20, Activation.RELU), new LayerSpec.Output(10)));
        assertTrue(message(() -> AssistantFamily.count(5).candidates(STUDENT, twenty)).contains("same width twice"));
        assertEquals(3, AssistantFamily.count(3).candidates(STUDENT, twenty).size(), "17, 18, 19 fit");
    }

    @Test
    void anAutomaticAssistantOutsideTheMiddleOfOneChainIsRefusedWhenBuilt() {
        assertTrue(message(() -> chain().addChain(DistillationSettings.DEFAULTS, "teacher", "assistant").build())
                .contains("a chain of two has no room for one"));
        assertTrue(message(() -> chain().addChain(DistillationSettings.DEFAULTS, "assistant", "student").build())
                .contains("goes between a teacher and a student"));
        assertTrue(message(() -> chain().addChain(DistillationSettings.DEFAULTS, "teacher", "assistant", "student")
                .addChain(DistillationSettings.DEFAULTS, "teacher", "assistant", "student2").build())
                .contains("is in 2 chains"));
        assertTrue(message(() -> chain().addMutual(DistillationSettings.DEFAULTS, "assistant", "student").build())
                .contains("is an automatic assistant"));
        assertTrue(message(() -> chain().addModel("tiny", TinyData.mlp(12, 3), DistillationChainTest.TRAINING)
                .addChain(DistillationSettings.DEFAULTS, "tiny", "assistant", "student").build())
                .startsWith("automatic assistant 'assistant': between tiny and student: width"),
                "a listed width wider than this teacher");
    }

    @Test
    void theChainTrainsEveryCandidateAndKeepsTheOneWhoseStudentValidatesBest() {
        ChainResult result = chain().addChain(DistillationSettings.DEFAULTS, "teacher", "assistant", "student")
                .build().train();
        ChainResult.Choice choice = result.choices().get(0);
        assertEquals("assistant-from-teacher", choice.assistant());
        assertEquals(List.of("w8", "w16"), choice.candidates().stream().map(c -> c.candidate().label()).toList());
        double best = choice.candidates().stream().mapToDouble(c -> c.studentValidationAccuracy().get(0)).max()
                .orElseThrow();
        assertEquals(best, choice.chosenCandidate().studentValidationAccuracy().get(0));
        for (int i = 0; i < choice.chosen(); i++) {
            assertTrue(choice.candidates().get(i).studentValidationAccuracy().get(0) < best, "earlier wins a tie");
        }
        ChainResult.Trained assistant = result.model("assistant-from-teacher");
        assertEquals(choice.chosenCandidate().candidate().width(),
                assistant.network().numParams() == TinyData.mlp(8, 3).cost(DistillationChainTest.INPUT, 3).params()
                        ? 8 : 16, "the assistant node holds the chosen candidate's network");
        assertEquals(choice.chosenCandidate().studentValidationAccuracy().get(0),
                result.model("student-from-assistant").training().bestValidationAccuracy());
        assertNotNull(result.model("teacher").training());
    }

    private static DistillationChain.Builder chain() {
        return DistillationChain.builder().setInput(DistillationChainTest.INPUT)
                .setData(DistillationChainTest.TRAIN, DistillationChainTest.VALIDATION)
                .addModel("teacher", TinyData.mlp(32, 3), DistillationChainTest.TRAINING)
                .addAutoAssistant("assistant", AssistantFamily.widths(List.of(8, 16)), DistillationChainTest.TRAINING)
                .addModel("student", TinyData.mlp(4, 3), DistillationChainTest.TRAINING)
                .addModel("student2", TinyData.mlp(4, 3), DistillationChainTest.TRAINING)
                .optSeed(5);
    }

    private static String message(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }
}
