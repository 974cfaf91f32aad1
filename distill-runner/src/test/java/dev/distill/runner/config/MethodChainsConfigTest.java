package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.chain.Chain;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.ExperimentPlan;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ensemble and mutual chains in YAML: {@code {ensemble: [...], weights: [...], student: s}} and {@code {mutual:
 * [a, b]}}, their plans, and every bad parameter as one located line (also through {@code distill validate}).
 */
class MethodChainsConfigTest {

    @TempDir
    Path dir;

    private static final String MODELS = "  teacher:\n    layers: [{type: dense, units: 32}, {type: output}]\n"
            + "    training: {epochs: 2}\n"
            + "  assistant:\n    layers: [{type: dense, units: 16}, {type: output}]\n    training: {epochs: 2}\n"
            + "  student:\n    layers: [{type: dense, units: 8}, {type: output}]\n    training: {epochs: 2}\n";

    private Path config(String models, String chain) throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: methods\ndata: {dataset: digits, path: '"
                + CliRun.repoFile("datasets/digits.csv.gz") + "'}\nmodels:\n" + models + "chains:\n  - " + chain
                + "\nbaseline: true\nseeds: [0]\n");
        return file;
    }

    @Test
    void anEnsembleChainPlansItsTeachersAsRootsAndItsStudentWithTheirWeights() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config(MODELS,
                "{ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student, distillation: {temperature: 2}}"));
        Chain chain = c.chains().get(0);
        assertEquals(Chain.Kind.ENSEMBLE, chain.kind());
        assertEquals(List.of(0.7, 0.3), chain.weights());
        assertEquals(2.0, chain.distillation().temperature());
        Plan plan = ExperimentPlan.of(c);
        assertEquals(List.of("teacher", "assistant", "student-from-teacher+assistant", "student-baseline"),
                plan.nodes().stream().map(Plan.Node::id).toList());
        Plan.Node student = plan.nodes().get(2);
        assertEquals(List.of("teacher", "assistant"), student.teachers().ids());
        assertEquals("the ensemble teacher 0.7 + assistant 0.3", student.source());
    }

    @Test
    void anEnsembleWithoutWeightsWeighsItsTeachersEqually() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config(MODELS, "{ensemble: [teacher, assistant], student: student}"));
        assertEquals(List.of(0.5, 0.5), c.chains().get(0).weights());
    }

    @Test
    void aMutualChainPlansEveryStudentWithItsPeersAndABaselineEach() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config(MODELS, "{mutual: [student, assistant]}"));
        Plan plan = ExperimentPlan.of(c);
        assertEquals(List.of("student-mutual", "assistant-mutual", "student-baseline", "assistant-baseline"),
                plan.nodes().stream().map(Plan.Node::id).toList());
        assertEquals(List.of("assistant-mutual"), plan.nodes().get(0).teachers().ids());
        assertEquals(2, plan.group(plan.nodes().get(1)).size());
    }

    @Test
    void badMethodParametersAreOneLineAtTheKey() throws IOException {
        assertRefused(config(MODELS, "{ensemble: [teacher, assistant], weights: [0.7], student: student}"),
                "chains[0].weights", "1 weights for 2 teachers");
        assertRefused(config(MODELS, "{ensemble: [teacher, assistant], weights: [0.7, 0.7], student: student}"),
                "chains[0].weights", "must sum to 1");
        assertRefused(config(MODELS, "{ensemble: [teacher], student: student}"), "chains[0].ensemble",
                "at least two teachers");
        assertRefused(config(MODELS, "{ensemble: [teacher, techer], student: student}"), "chains[0].ensemble",
                "no model named 'techer'");
        assertRefused(config(MODELS, "{ensemble: [teacher, assistant]}"), "chains[0].student", "missing");
        assertRefused(config(MODELS, "{ensemble: [teacher, student], student: student}"), "chains[0].student",
                "one of the ensemble's teachers");
        assertRefused(config(MODELS, "{mutual: [student]}"), "chains[0].mutual", "at least two students, found 1");
        assertRefused(config(MODELS, "{mutual: [student, student]}"), "chains[0].mutual", "appears twice");
        assertRefused(config(MODELS.replace("units: 16}, {type: output}]\n    training: {epochs: 2}",
                "units: 16}, {type: output}]\n    training: {epochs: 3}"), "{mutual: [student, assistant]}"),
                "chains[0].mutual", "same epochs and batch_size");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {method: ensemble}}"),
                "chains[0].distillation.method", "'ensemble' is a kind of chain, not a loss");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {method: fitnet}}"),
                "chains[0].distillation.method", "unknown distillation method 'fitnet'; known: kd, dkd");
        Files.writeString(dir.resolve("m.zip"), "x");
        assertRefused(config(MODELS + "  loaded: {file: m.zip}\n", "{mutual: [student, loaded]}"), "chains[0].mutual",
                "'loaded' is trained already (given, or loaded from a file) and never trained further; mutual "
                        + "learning trains every model it names");
    }

    @Test
    void aHintIsParsedIntoTheLinksSettingsAndBadHintsAreOneLine() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config(MODELS,
                "{models: [teacher, student], distillation: {hint: {student_layer: 0, teacher_layer: 0, epochs: 3}}}"));
        assertEquals(new dev.distill.core.chain.Hint(0, 0, 3), c.chains().get(0).distillation().hint());
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 1, teacher_layer: 0}}}"),
                "chains[0]", "teacher -> student: hint: student_layer 1 does not exist: the student's layers before its "
                        + "output are 0..0 (0 dense)");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 0, teacher_layer: 4}}}"),
                "chains[0]", "teacher_layer 4 does not exist");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 0}}}"),
                "chains[0].distillation.hint.teacher_layer", "missing");
        ExperimentConfig joint = ConfigLoader.load(config(MODELS, "{models: [teacher, student], distillation: {hint: "
                + "{student_layer: 0, teacher_layer: 0, stage: joint, weight: 0.3}}}"));
        assertEquals(new dev.distill.core.chain.Hint(0, 0, 0, dev.distill.core.chain.Hint.Stage.JOINT, 0.3),
                joint.chains().get(0).distillation().hint());
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 0, "
                + "teacher_layer: 0, stage: both}}}"), "chains[0].distillation.hint.stage", "unknown stage 'both'");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 0, "
                + "teacher_layer: 0, weight: 2}}}"), "chains[0].distillation.hint.weight", "belongs to stage: joint");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: 0, "
                + "teacher_layer: 0, stage: joint, epochs: 3}}}"), "chains[0].distillation.hint.epochs", "a joint hint trains");
        assertRefused(config(MODELS, "{models: [teacher, student], distillation: {hint: {student_layer: -1, "
                + "teacher_layer: 0}}}"), "chains[0].distillation.hint.student_layer",
                "student_layer: must be a layer index from 0, found -1");
        assertRefused(config(MODELS, "{ensemble: [teacher, assistant], student: student, distillation: {hint: "
                + "{student_layer: 0, teacher_layer: 0}}}"), "chains[0]", "an ensemble chain cannot carry one");
    }

    @Test
    void validateSaysABadEnsembleInOneLineAndFails() throws IOException {
        CliRun r = CliRun.of("validate", config(MODELS,
                "{ensemble: [teacher, assistant], weights: [0.6, 0.6], student: student}").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("chains[0].weights") && r.err().contains("must sum to 1"), r.err());
    }

    @Test
    void aRefusedModelOfAChainWrittenOneNameALineIsPlacedOnItsOwnLine() throws IOException {
        String head = "name: methods\ndata: {dataset: digits, path: '" + CliRun.repoFile("datasets/digits.csv.gz")
                + "'}\nmodels:\n" + MODELS + "chains:\n";
        Path file = dir.resolve("c.yaml");
        LocatedErrors.assertError(file, head + "  - models:\n      - teacher\n      - studnet  # <-\nseeds: [0]\n",
                "chains[0].models", "no model named 'studnet'; declared models: teacher, assistant, student");
        LocatedErrors.assertError(file, head + "  - ensemble:\n      - teacher\n      - assistant\n      - assistant  # <-\n"
                + "    student: student\nseeds: [0]\n", "chains[0].ensemble", "'assistant' appears twice in the ensemble");
        LocatedErrors.assertError(file, head + "  - [teacher, student]\n  - - student\n    - teacher  # <-\n"
                + "seeds: [0]\n", "chains[1]", "'student' -> 'teacher' closes a loop");
        LocatedErrors.assertError(file, head + "  - ensemble: [teacher, assistant]\n    student: teacher  # <-\n"
                + "seeds: [0]\n", "chains[0].student", "one of the ensemble's teachers");
    }

    private static void assertRefused(Path file, String where, String what) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what), e.getMessage());
    }
}
