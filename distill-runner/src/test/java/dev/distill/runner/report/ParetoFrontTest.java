package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The front and the highlighting rule on hand-made figures, where the right answer is known. */
class ParetoFrontTest {

    @Test
    void keepsOnlyModelsNoOtherIsBothSmallerAndMoreAccurate() {
        List<ParetoFront.Point> points = List.of(
                new ParetoFront.Point("teacher", 200_000, 0.98),
                new ParetoFront.Point("assistant", 18_000, 0.96),
                new ParetoFront.Point("worse-and-bigger", 30_000, 0.95),
                new ParetoFront.Point("student", 5_600, 0.92),
                new ParetoFront.Point("same-size-worse", 5_600, 0.90),
                new ParetoFront.Point("baseline", 5_700, 0.91));
        assertEquals(List.of("student", "assistant", "teacher"),
                ParetoFront.of(points).stream().map(ParetoFront.Point::label).toList());
    }

    @Test
    void defaultRulePicksTheSmallestFileWithinOnePointOfTheBestStudent() {
        List<RunSummary.ModelEntry> models = List.of(
                entry("teacher", "teacher", 0.98, 200_000),
                entry("assistant", "assistant", 0.965, 18_000),
                entry("student-from-teacher", "student", 0.93, 6_000),
                entry("small-student", "student", 0.921, 3_000),
                entry("tiny-baseline", "baseline", 0.915, 1_000));
        // best student 0.93: within one point are 0.93 and 0.921 (and the larger models), not 0.915
        assertEquals("small-student", SizeBudget.defaultRule().pick(models).id());
        assertEquals("assistant", new SizeBudget(20_000L).pick(models).id());
        assertEquals("tiny-baseline", new SizeBudget(1_000L).pick(models).id());
        assertNull(new SizeBudget(999L).pick(models));
    }

    @Test
    void confusionMatrixCountsRecallAndMistakes() {
        int[] labels = {0, 0, 0, 1, 1, 2};
        int[] predicted = {0, 1, 1, 1, 1, 0};
        ConfusionMatrix m = ConfusionMatrix.of(labels, predicted, 3);
        assertEquals(2, m.count(0, 1));
        assertEquals(1.0 / 3, m.recall(0), 1e-12);
        assertEquals(1.0, m.recall(1), 1e-12);
        assertEquals(1, m.mostFrequentMistake(0));
        assertEquals(-1, m.mostFrequentMistake(1));
        assertEquals(3.0 / 6, m.accuracy(), 1e-12);
    }

    private static RunSummary.ModelEntry entry(String id, String role, double accuracy, long bytes) {
        return RunSummary.ModelEntry.of(id, id, role, accuracy, 1000, bytes, 1000L, "models/" + id + ".zip", 1000L, null)
                .withTraining(new RunSummary.Training(1, 1.0, 1, accuracy));
    }
}
