package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.SettingException;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules of chains, checked without training anything: each refusal names the config key and the position
 * of the model at fault (what the config loader places on the line), and its message names the chain.
 */
class ChainRulesTest {

    static final TrainingSpec TRAINING = DistillationChainTest.TRAINING;
    static final DistillationSettings KD = DistillationSettings.DEFAULTS;

    /** teacher, assistant, student (declared), frozen (trained elsewhere), auto (an automatic assistant). */
    static ChainRules rules() {
        Map<String, ChainRules.Member> models = new LinkedHashMap<>();
        models.put("teacher", ChainRules.Member.declared(TinyData.mlp(32, 3), TRAINING));
        models.put("assistant", ChainRules.Member.declared(TinyData.mlp(16, 3), TRAINING));
        models.put("student", ChainRules.Member.declared(TinyData.mlp(4, 3), TRAINING));
        models.put("frozen", ChainRules.Member.trained());
        models.put("auto", ChainRules.Member.auto(AssistantFamily.count(2), TRAINING));
        return new ChainRules(models);
    }

    static ChainRefusal refusal(ChainRules rules, Chain chain) {
        return assertThrows(ChainRefusal.class, () -> rules.add(chain));
    }

    static void assertRefusal(ChainRefusal e, String key, int index, String problem) {
        assertEquals(key, e.key(), e.getMessage());
        assertEquals(index, e.index(), e.getMessage());
        assertTrue(e.problem().contains(problem), e.problem());
        assertTrue(e.getMessage().endsWith(": " + e.problem())
                && e.getMessage().matches("^(chain|ensemble|mutual) \\[.*|^automatic assistant '.*"),
                "names the chain or the assistant: " + e.getMessage());
    }

    static Chain chain(String... models) {
        return new Chain(List.of(models), KD);
    }

    @Test
    void aRefusalOfASequenceNamesTheModelAtFaultByItsIndexUnderModels() {
        assertRefusal(refusal(rules(), chain("teacher", "studnet")), "models", 1,
                "no model named 'studnet'; declared models: teacher, assistant, student, frozen, auto");
        assertRefusal(refusal(rules(), chain("teacher")), "models", -1, "at least a teacher and a student");
        assertRefusal(refusal(rules(), chain("teacher", "student", "teacher")), "models", 2,
                "'teacher' appears twice in the chain");
        assertEquals("chain [teacher, studnet]: no model named 'studnet'; declared models: teacher, assistant, "
                + "student, frozen, auto", refusal(rules(), chain("teacher", "studnet")).getMessage());
    }

    @Test
    void aModelTrainedElsewhereOnlyTeaches() {
        assertDoesNotThrow(() -> rules().add(chain("frozen", "student")));
        assertRefusal(refusal(rules(), chain("teacher", "frozen")), "models", 1,
                "can only be the first model of a chain (the teacher)");
        assertRefusal(refusal(rules(), Chain.ensemble(List.of("teacher", "assistant"), null, "frozen", KD)),
                "student", -1, "cannot be the ensemble's student");
        assertRefusal(refusal(rules(), Chain.mutual(List.of("student", "frozen"), KD)), "mutual", 1,
                "mutual learning trains every model it names");
        assertDoesNotThrow(() -> rules().add(Chain.ensemble(List.of("frozen", "teacher"), null, "student", KD)));
    }

    @Test
    void anAutomaticAssistantGoesBetweenATeacherAndADeclaredStudentWithoutAHint() {
        assertRefusal(refusal(rules(), chain("teacher", "auto")), "models", 1,
                "it goes between a teacher and a student, e.g. [teacher, auto, student]; a chain of two has no room");
        assertRefusal(refusal(rules(), chain("auto", "assistant", "student")), "models", 0, "goes between");
        Map<String, ChainRules.Member> two = new LinkedHashMap<>(Map.of(
                "teacher", ChainRules.Member.declared(TinyData.mlp(32, 3), TRAINING),
                "student", ChainRules.Member.declared(TinyData.mlp(4, 3), TRAINING),
                "a", ChainRules.Member.auto(AssistantFamily.count(2), TRAINING), "b", ChainRules.Member.auto(AssistantFamily.count(2), TRAINING)));
        assertRefusal(refusal(new ChainRules(two), chain("teacher", "a", "b", "student")), "models", 2,
                "two automatic assistants in a row");
        assertRefusal(refusal(rules(), new Chain(List.of("teacher", "auto", "student"),
                KD.withHint(new Hint(0, 0, 0)))), "models", 1, "drop the hint from this chain");
        assertRefusal(refusal(rules(), Chain.mutual(List.of("student", "auto"), KD)), "mutual", 1,
                "'auto' is an automatic assistant");
        assertDoesNotThrow(() -> rules().add(chain("teacher", "auto", "student")));
    }

    @Test
    void aLoopAcrossChainsIsRefusedAtTheLinkThatClosesItWithThePathBack() {
        ChainRules rules = rules();
        rules.add(chain("teacher", "assistant", "student"));
        assertRefusal(refusal(rules, chain("student", "teacher")), "models", 1,
                "'student' -> 'teacher' closes a loop with the chains before it (teacher -> assistant -> student)");
    }

    @Test
    void aLinkSharedByTwoChainsHasOneSetting() {
        ChainRules rules = rules();
        rules.add(chain("teacher", "student"));
        assertDoesNotThrow(() -> rules.add(chain("teacher", "student")), "the same link, the same setting");
        assertRefusal(refusal(rules, new Chain(List.of("teacher", "student"), DistillationSettings.kd(2, 0.5, 0.5))),
                "models", 1, "teacher -> student is also in an earlier chain with other distillation settings");
    }

    @Test
    void aHintMustFitBothDeclaredNetworksAndWaitsForALoadedTeachersLayers() {
        Chain badHint = new Chain(List.of("teacher", "student"), KD.withHint(new Hint(0, 4, 0)));
        assertRefusal(refusal(rules(), badHint), "models", -1, "teacher -> student: hint: teacher_layer 4 does not exist");
        assertDoesNotThrow(() -> rules().add(new Chain(List.of("frozen", "student"), KD.withHint(new Hint(0, 4, 0)))),
                "a loaded teacher's layers are known when it is read, and checked then");
    }

    @Test
    void anEnsembleAndAMutualGroupNameEachModelOnceAtItsKey() {
        assertRefusal(refusal(rules(), Chain.ensemble(List.of("teacher", "techer"), null, "student", KD)),
                "ensemble", 1, "no model named 'techer'");
        assertRefusal(refusal(rules(), Chain.ensemble(List.of("teacher", "student"), null, "student", KD)),
                "student", -1, "'student' is one of the ensemble's teachers; it cannot also be its student");
        assertRefusal(refusal(rules(), Chain.mutual(List.of("student", "student"), KD)), "mutual", 1,
                "'student' appears twice");
    }

    @Test
    void mutualStudentsAreTrainedAlike() {
        Map<String, ChainRules.Member> models = Map.of(
                "a", ChainRules.Member.declared(TinyData.mlp(4, 3), TRAINING),
                "b", ChainRules.Member.declared(TinyData.mlp(8, 3), new TrainingSpec(2, 32, Optimizer.ADAM, 1e-2,
                        new LearningRateSchedule.Constant(), 0)));
        ChainRefusal e = assertThrows(ChainRefusal.class, () -> new ChainRules(models).add(Chain.mutual(List.of("a",
                "b"), KD)));
        assertRefusal(e, "mutual", 1, "same epochs and batch_size");
    }

    @Test
    void anAutomaticAssistantInExactlyOneChainGetsItsFamilysCandidatesBetweenItsNeighbours() {
        ChainRules rules = rules();
        Chain chain = chain("teacher", "auto", "student");
        rules.add(chain);
        Map<String, List<AssistantFamily.Candidate>> candidates = rules.autoAssistants(List.of(chain));
        List<Integer> widths = candidates.get("auto").stream().map(AssistantFamily.Candidate::width).toList();
        assertEquals(2, widths.size(), "count: 2");
        assertTrue(widths.stream().allMatch(w -> w > 4 && w < 32), "between the student's 4 and the teacher's 32: "
                + widths);

        ChainRefusal none = assertThrows(ChainRefusal.class, () -> rules().autoAssistants(List.of(chain("teacher",
                "student"))));
        assertRefusal(none, "auto", -1, "an automatic assistant in no chain: put it between a teacher and a student");
        assertTrue(none.getMessage().startsWith("automatic assistant 'auto': "), none.getMessage());
        ChainRules twice = rules();
        Chain other = chain("teacher", "auto", "assistant");
        twice.add(chain);
        twice.add(other);
        assertRefusal(assertThrows(ChainRefusal.class, () -> twice.autoAssistants(List.of(chain, other))), "auto", -1,
                "'auto' is in 2 chains: declare one automatic assistant per chain");

        Map<String, ChainRules.Member> wide = new LinkedHashMap<>(Map.of(
                "teacher", ChainRules.Member.declared(TinyData.mlp(32, 3), TRAINING),
                "student", ChainRules.Member.declared(TinyData.mlp(4, 3), TRAINING),
                "auto", ChainRules.Member.auto(AssistantFamily.widths(List.of(40)), TRAINING)));
        assertRefusal(assertThrows(ChainRefusal.class, () -> new ChainRules(wide).autoAssistants(List.of(chain))),
                "auto", -1, "between teacher and student: width 40");
    }

    @Test
    void aBornAgainChainRetrainsADeclaredModelAndItsGenerationsTakeNoOtherModelsName() {
        assertRefusal(assertThrows(ChainRefusal.class, () -> rules().bornAgain(Chain.bornAgain("frozen", 2, KD))),
                "born_again", -1, "it needs a declared model");
        assertRefusal(assertThrows(ChainRefusal.class, () -> rules().bornAgain(Chain.bornAgain("auto", 2, KD))),
                "born_again", -1, "'auto' is an automatic assistant");
        assertRefusal(assertThrows(ChainRefusal.class, () -> rules().bornAgain(Chain.bornAgain("nett", 2, KD))),
                "born_again", -1, "no model named 'nett'");
        Map<String, ChainRules.Member> clash = new LinkedHashMap<>(Map.of(
                "net", ChainRules.Member.declared(TinyData.mlp(8, 3), TRAINING),
                "net_gen2", ChainRules.Member.declared(TinyData.mlp(4, 3), TRAINING)));
        assertRefusal(assertThrows(ChainRefusal.class, () -> new ChainRules(clash).bornAgain(Chain.bornAgain("net",
                2, KD))), "born_again", -1, "'net_gen2' would replace a declared model");

        ChainRules rules = rules();
        Chain chain = Chain.bornAgain("student", 2, KD);
        rules.bornAgain(chain);
        assertDoesNotThrow(() -> rules.add(chain), "the generations are models of the rules once allowed");
    }

    @Test
    void bornAgainGenerationsOutsideOneToTenAreRefusedAtGenerations() {
        for (int generations : new int[] {0, Chain.MAX_GENERATIONS + 1}) {
            SettingException e = assertThrows(SettingException.class, () -> Chain.bornAgain("net", generations, KD));
            assertEquals("generations", e.key());
            assertTrue(e.getMessage().contains("between 1 and 10, found " + generations), e.getMessage());
        }
        assertEquals(11, Chain.bornAgain("net", 10, KD).models().size());
    }
}
