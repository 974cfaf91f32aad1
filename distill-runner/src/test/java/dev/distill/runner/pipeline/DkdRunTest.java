package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code method: dkd} end to end on the shipped digits config (an MLP teacher to keep it short): the
 * student trains with decoupled KD, and the same run with vanilla KD trains differently from the
 * first step on (same seeds, same teacher: only the loss differs).
 */
class DkdRunTest {

    private static final List<String> SHORT = List.of(
            "--set", "models.teacher.layers=[{type: dense, units: 64, activation: relu}, {type: output}]",
            "--set", "models.teacher.training.epochs=5",
            "--set", "models.student.training.epochs=4",
            "--set", "chains=[[teacher, student]]",
            "--set", "baseline=false",
            "--set", "seeds=[0]");

    private static JsonNode run(Path dir, String distillation) throws Exception {
        List<String> sets = new ArrayList<>(List.of("--set", "distillation=" + distillation));
        sets.addAll(SHORT);
        return DigitsRunTest.runDigits(dir, sets);
    }

    private static JsonNode student(JsonNode summary) {
        for (JsonNode m : summary.get("models")) {
            if (m.get("id").asText().equals("student-from-teacher")) {
                return m;
            }
        }
        throw new AssertionError("no student-from-teacher in " + summary);
    }

    private static List<String> studentLosses(Path dir) throws Exception {
        List<String> losses = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            JsonNode epoch = new ObjectMapper().readTree(line);
            if (epoch.get("model").asText().equals("student-from-teacher")) {
                losses.add(epoch.get("train_loss").asText());
            }
        }
        return losses;
    }

    @Test
    void aDkdStudentTrainsAndRecordsItsSettings(@TempDir Path temp) throws Exception {
        Path dkd = temp.resolve("dkd");
        Path kd = temp.resolve("kd");
        JsonNode dkdStudent = student(run(dkd, "{method: dkd, temperature: 4, alpha: 1, beta: 8}"));
        JsonNode kdStudent = student(run(kd, "{method: kd, temperature: 4, soft_weight: 0.5, hard_weight: 1}"));

        assertEquals(4.0, dkdStudent.get("temperature").asDouble());
        assertEquals(1.0, dkdStudent.get("hard_weight").asDouble());
        assertTrue(dkdStudent.get("soft_weight").isNull(), "dkd has no soft_weight: " + dkdStudent);
        assertTrue(dkdStudent.get("test_accuracy").asDouble() > 0.3, "it learned (chance is 0.1): " + dkdStudent);
        List<String> dkdLosses = studentLosses(dkd);
        List<String> kdLosses = studentLosses(kd);
        assertEquals(4, dkdLosses.size());
        assertNotEquals(kdLosses.get(0), dkdLosses.get(0), "the first epoch's loss is dkd's, not kd's");
    }
}
