package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every distillation method beyond a single teacher trains on the shipped digits data through {@code distill run}
 * (training cut short, two seeds so that a verdict has a spread) and its student gets a verdict against the
 * baseline in summary.json.
 */
class MethodsRunTest {

    private static final List<String> SHORT = List.of(
            "--set", "models.teacher.layers=[{type: dense, units: 64, activation: relu}, {type: output}]",
            "--set", "models.assistant.layers=[{type: dense, units: 32, activation: relu}, {type: output}]",
            "--set", "models.teacher.training.epochs=4",
            "--set", "models.assistant.training.epochs=3",
            "--set", "models.student.training.epochs=3",
            "--set", "seeds=[0, 1]");

    private static JsonNode run(Path dir, String chains, String... more) throws Exception {
        List<String> sets = new ArrayList<>(List.of("--set", "chains=" + chains));
        sets.addAll(SHORT);
        sets.addAll(List.of(more));
        return DigitsRunTest.runDigits(dir, sets);
    }

    @Test
    void aHintFromTheConvTeachersPooledFeaturesGuidesTheMlpStudentAndGetsAVerdict(@TempDir Path dir) throws Exception {
        // the shipped CNN teacher: its second conv layer (index 2), averaged over space, hints the MLP's hidden layer
        JsonNode summary = DigitsRunTest.runDigits(dir, List.of(
                "--set", "chains=[{models: [teacher, student], distillation: {hint: {student_layer: 0, teacher_layer: 2, "
                        + "epochs: 2}}}]",
                "--set", "models.teacher.training.epochs=2", "--set", "models.student.training.epochs=3",
                "--set", "seeds=[0, 1]"));
        assertJudged(model(summary, "student-from-teacher"), "student-baseline");
        String config = Files.readString(dir.resolve("config.yaml"));
        assertTrue(config.contains("teacher_layer: 2"), "the run's config keeps the hint: " + config);
    }

    @Test
    void aSweptEnsembleLinkKeepsItsTeachersAtEveryPointAndGoesOnAsTheChosenOne(@TempDir Path dir) throws Exception {
        JsonNode summary = run(dir, "[{ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student}]",
                "--set", "sweep={models: [student], grid: {temperature: [1, 4]}}");
        JsonNode sweep = summary.get("sweeps").get(0);
        assertEquals("student-from-teacher+assistant", sweep.get("id").asText());
        assertEquals(2, sweep.get("points").size(), sweep.toString());
        JsonNode student = model(summary, "student-from-teacher+assistant");
        assertEquals("teacher+assistant", student.get("distilled_from").asText());
        assertJudged(student, "student-baseline");
    }

    @Test
    void aJointHintTrainsWithTheLinkAndGetsAVerdict(@TempDir Path dir) throws Exception {
        JsonNode summary = run(dir, "[{models: [teacher, student], distillation: {hint: {student_layer: 0, "
                + "teacher_layer: 0, stage: joint, weight: 0.5}}}]");
        assertJudged(model(summary, "student-from-teacher"), "student-baseline");
    }

    private static JsonNode model(JsonNode summary, String id) {
        for (JsonNode m : summary.get("models")) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no " + id + " in " + summary);
    }

    private static void assertJudged(JsonNode student, String baseline) {
        String verdict = student.get("kd_verdict").asText();
        assertTrue(verdict.contains("vs " + baseline), student.toString());
        assertEquals(2, student.get("test_accuracy_per_seed").size(), student.toString());
        assertTrue(student.get("test_accuracy").asDouble() > 0.3, "it learned (chance is 0.1): " + student);
    }

    @Test
    void anEnsembleOfTeacherAndAssistantTeachesTheStudentAndGetsAVerdict(@TempDir Path dir) throws Exception {
        JsonNode summary = run(dir, "[{ensemble: [teacher, assistant], weights: [0.7, 0.3], student: student}]");
        JsonNode student = model(summary, "student-from-teacher+assistant");
        assertEquals("teacher+assistant", student.get("distilled_from").asText());
        assertJudged(student, "student-baseline");
        // each teacher's logits cached once; the ensemble's targets are combined from them, never stored
        try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("logits"))) {
            assertEquals(List.of("assistant", "teacher"), files.map(p -> p.getFileName().toString().replaceAll("\\..*", ""))
                    .sorted().toList());
        }
    }

    @Test
    void mutualStudentsTrainTogetherAndEachGetsAVerdictAgainstItsOwnBaseline(@TempDir Path dir) throws Exception {
        JsonNode summary = run(dir, "[{mutual: [student, assistant]}]");
        assertJudged(model(summary, "student-mutual"), "student-baseline");
        assertJudged(model(summary, "assistant-mutual"), "assistant-baseline");
        long epochs = Files.readAllLines(dir.resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("\"model\":\"student-mutual\"")).count();
        assertEquals(6, epochs, "3 epochs x 2 seeds logged for the mutual student");
    }
}
