package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.chain.Plan;
import dev.distill.models.spec.LayerSpec;
import dev.distill.runner.pipeline.ExperimentPlan;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code assistant: auto} in YAML: its family (a count or widths), its candidates made from its chain's student
 * and teacher, what {@code validate} prints, and every setting with nothing to choose from as one located line.
 */
class AutoAssistantConfigTest {

    @TempDir
    Path dir;

    private static final String MODELS = "  teacher:\n    layers: [{type: dense, units: 64}, {type: output}]\n"
            + "    training: {epochs: 2}\n"
            + "  student:\n    layers: [{type: dense, units: 8}, {type: output}]\n    training: {epochs: 2}\n";

    private Path config(String assistant, String chain, String extra) throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "name: auto\ndata: {dataset: digits, path: '" + CliRun.repoFile("datasets/digits.csv.gz")
                + "'}\nmodels:\n" + MODELS + "  assistant: " + assistant + "\nchains:\n  - " + chain
                + "\nseeds: [0, 1]\n" + extra);
        return file;
    }

    @Test
    void aCountMakesCandidatesBetweenTheStudentAndTheTeacherAndThePlanCountsTheirTrainings() throws IOException {
        ExperimentConfig c = ConfigLoader.load(config("{auto: {count: 2}, training: {epochs: 3}}",
                "[teacher, assistant, student]", ""));
        ModelConfig.Auto auto = (ModelConfig.Auto) c.models().get("assistant");
        assertEquals(List.of("w16", "w32"), auto.candidates().stream().map(a -> a.of().label()).toList());
        assertEquals("assistant_w32", auto.candidate("w32").model().name());
        assertEquals(new LayerSpec.Dense(32, dev.distill.models.spec.Activation.RELU),
                auto.candidate("w32").model().spec().layers().get(0));
        assertEquals(3, auto.candidate("w16").model().training().epochs());
        Plan plan = ExperimentPlan.of(c);
        assertEquals(List.of("teacher", "assistant-from-teacher", "student-from-assistant", "student-baseline"),
                plan.nodes().stream().map(Plan.Node::id).toList());
        // teacher 1, two candidates 2, each candidate's student over 2 seeds 4, the baseline 2
        assertEquals(1 + 2 + 4 + 2, ExperimentPlan.trainings(plan, c));
    }

    @Test
    void autoAloneIsThreeCandidatesAndWidthsAreTakenAsListed() throws IOException {
        ModelConfig.Auto plain = (ModelConfig.Auto) ConfigLoader.load(config("auto", "[teacher, assistant, student]", ""))
                .models().get("assistant");
        assertEquals(List.of(13, 23, 38), plain.candidates().stream().map(a -> a.of().width()).toList());
        ModelConfig.Auto listed = (ModelConfig.Auto) ConfigLoader.load(config("{auto: {widths: [40, 12]}}",
                "[teacher, assistant, student]", "")).models().get("assistant");
        assertEquals(List.of("w40", "w12"), listed.candidates().stream().map(a -> a.of().label()).toList());
        ModelConfig.Auto flag = (ModelConfig.Auto) ConfigLoader.load(config("{auto: true, training: {epochs: 4}}",
                "[teacher, assistant, student]", "")).models().get("assistant");
        assertEquals(plain.candidates().stream().map(a -> a.of().label()).toList(),
                flag.candidates().stream().map(a -> a.of().label()).toList());
        assertEquals(4, flag.training().epochs());
    }

    @Test
    void settingsWithNothingToChooseFromAreOneLineAtTheirKey() throws IOException {
        String chain = "[teacher, assistant, student]";
        assertRefused(config("{auto: {count: 2}}", "[teacher, assistant]", ""), "chains[0]",
                "'assistant' is an automatic assistant: it goes between a teacher and a student, e.g. [teacher, "
                        + "assistant, student]; a chain of two has no room for one");
        assertRefused(config("{auto: {count: 2}}", "[assistant, teacher, student]", ""), "chains[0]",
                "goes between a teacher and a student");
        assertRefused(config("{auto: {widths: []}}", chain, ""), "models.assistant.auto.widths",
                "an empty family");
        assertRefused(config("{auto: {count: 0}}", chain, ""), "models.assistant.auto.count", "at least 1");
        assertRefused(config("{auto: {widths: [100]}}", chain, ""), "models.assistant", "between teacher and "
                + "student: width 100 is not between the student's widest hidden layer (8) and the teacher's (64)");
        assertRefused(config("{auto: {widths: [2.5]}}", chain, ""), "models.assistant.auto.widths",
                "a positive whole number");
        assertRefused(config("{auto: {size: 2}}", chain, ""), "models.assistant.auto.size", "unknown key");
        assertRefused(tinyConfig(), "models.assistant", "is in 2 chains");
        assertRefused(config("{auto: {count: 2}}", "[teacher, student]", ""), "models.assistant",
                "an automatic assistant in no chain");
        assertRefused(config("{auto: {count: 2}}", "{mutual: [assistant, student]}", ""), "chains[0].mutual",
                "is an automatic assistant");
        assertRefused(config("{auto: {count: 2}}", chain, "sweep: {models: [assistant], grid: {temperature: [1, 2]}}\n"),
                "sweep.models", "is an automatic assistant");
        assertRefused(config("{auto: {count: 2}}", "{models: " + chain + ", distillation: {hint: {student_layer: 0, "
                + "teacher_layer: 0}}}", ""), "chains[0]", "a hint names layers of declared models");
        assertRefused(config("{auto: {count: 2, widths: [16]}}", chain, ""), "models.assistant.auto.widths",
                "not both");
        assertRefused(config("{auto: {count: 9}}", chain, ""), "models.assistant.auto.count", "at most 8 candidates");
        Path narrow = config("{auto: {count: 2}}", chain, "");
        Files.writeString(narrow, Files.readString(narrow).replace("units: 64", "units: 9"));
        assertRefused(narrow, "models.assistant", "no room for an assistant: the student's widest hidden layer has 8");
    }

    @Test
    void validatePrintsTheCandidatesAndSaysABadFamilyInOneLine() throws IOException {
        CliRun ok = CliRun.of("validate", config("{auto: {count: 2}}", "[teacher, assistant, student]", "").toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("automatic: w16 (") && ok.out().contains("w32 ("), ok.out());
        CliRun bad = CliRun.of("validate", config("{auto: {widths: []}}", "[teacher, assistant, student]", "").toString());
        assertEquals(2, bad.code(), bad.err());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
    }

    private Path tinyConfig() throws IOException {
        Path file = config("{auto: {count: 2}}", "[teacher, assistant, student]\n  - [teacher, assistant, tiny]", "");
        Files.writeString(file, Files.readString(file).replace("models:\n", "models:\n  tiny:\n    layers: [{type: "
                + "dense, units: 4}, {type: output}]\n"));
        return file;
    }

    private static void assertRefused(Path file, String where, String what) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
