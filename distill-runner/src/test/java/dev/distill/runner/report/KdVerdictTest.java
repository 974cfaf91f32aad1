package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.report.RunSummary.ModelEntry;
import java.util.List;
import org.apache.commons.math3.distribution.TDistribution;
import org.junit.jupiter.api.Test;

/** The verdict on distillation: gain, its standard error and Welch's test, against hand computation. */
class KdVerdictTest {

    private static ModelEntry entry(String id, String role, String from, List<Double> seeds) {
        double mean = seeds.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        return ModelEntry.of(id, id.split("-")[0], role, seeds.get(0), 25_450, 95_856, 50_900L, "models/" + id + ".zip",
                25_450L, null)
                .withDistillation(new RunSummary.Distillation(from, from == null ? null : 4.0, from == null ? null : 0.9,
                        from == null ? null : 0.1))
                .withSeeds(new RunSummary.Seeds(mean, null, seeds)).withTraining(new RunSummary.Training(10, 1.0, 10, 0.85));
    }

    private static ModelEntry verdictOf(String id, List<ModelEntry> entries) {
        return KdVerdict.attach(entries).stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aClearGainIsCalledHelpedWithWelchsPValue() {
        ModelEntry kd = verdictOf("student-from-teacher", List.of(
                entry("student-baseline", "baseline", null, List.of(0.85, 0.86, 0.87)),
                entry("student-from-teacher", "student", "teacher", List.of(0.90, 0.91, 0.92))));
        assertEquals(0.05, kd.verdict().kdGain(), 1e-12);
        // variances 1e-4 each, 3 seeds each: standard error sqrt(2e-4 / 3); Welch's df = 4
        double se = Math.sqrt(2e-4 / 3);
        assertEquals(se, kd.verdict().kdGainStd(), 1e-12);
        double p = 2 * (1 - new TDistribution(4).cumulativeProbability(0.05 / se));
        assertEquals(p, kd.verdict().kdGainP(), 1e-9);
        assertTrue(p < 0.01);
        assertEquals(String.format(java.util.Locale.ROOT,
                "distillation helped by 5.00 ± 0.82 points vs student-baseline, Welch p=%.3f", p), kd.verdict().kdVerdict());
    }

    @Test
    void theProtocolsFiguresSayDistillationHurt() {
        // the Fashion-MNIST protocol run of the core issue: KD 0.8457/0.8484/0.8542 vs baseline 0.8603/0.8641/0.8626
        ModelEntry kd = verdictOf("student-from-teacher", List.of(
                entry("student-baseline", "baseline", null, List.of(0.8603, 0.8641, 0.8626)),
                entry("student-from-teacher", "student", "teacher", List.of(0.8457, 0.8484, 0.8542))));
        assertEquals(-0.012900, kd.verdict().kdGain(), 1e-6);
        assertTrue(kd.verdict().kdGainP() < 0.05, "p " + kd.verdict().kdGainP());
        assertTrue(kd.verdict().kdVerdict().startsWith("distillation hurt by 1.29 ± "), kd.verdict().kdVerdict());
    }

    @Test
    void anOverlappingDifferenceDidNotHelp() {
        ModelEntry kd = verdictOf("student-from-teacher", List.of(
                entry("student-baseline", "baseline", null, List.of(0.85, 0.87, 0.86)),
                entry("student-from-teacher", "student", "teacher", List.of(0.86, 0.85, 0.875))));
        assertTrue(kd.verdict().kdGainP() > 0.05);
        assertTrue(kd.verdict().kdVerdict().startsWith("distillation did not help (+0.17 ± "), kd.verdict().kdVerdict());
    }

    @Test
    void modelsWithoutABaselineOrASecondSeedAreLeftPlain() {
        List<ModelEntry> entries = KdVerdict.attach(List.of(
                entry("teacher", "teacher", null, List.of(0.92)),
                entry("assistant-from-teacher", "assistant", "teacher", List.of(0.90)),
                entry("student-baseline", "baseline", null, List.of(0.86)),
                entry("student-from-teacher", "student", "teacher", List.of(0.85))));
        assertNull(entries.get(0).verdict().kdVerdict());
        assertNull(entries.get(1).verdict().kdVerdict(), "the assistant has no baseline of its architecture");
        assertNull(entries.get(2).verdict().kdVerdict());
        assertEquals(-0.01, entries.get(3).verdict().kdGain(), 1e-12);
        assertNull(entries.get(3).verdict().kdGainP());
        assertTrue(entries.get(3).verdict().kdVerdict().contains("too few seeds"), entries.get(3).verdict().kdVerdict());
        assertTrue(Json.pretty(entries.get(3)).contains("\"kd_gain_p\" : null"), Json.pretty(entries.get(3)));
    }
}
