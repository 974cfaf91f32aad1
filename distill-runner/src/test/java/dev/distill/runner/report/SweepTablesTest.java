package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.report.RunSummary.SweepEntry;
import dev.distill.runner.report.RunSummary.SweepPoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's sweep tables: temperature down, soft/hard weight across, the chosen cell marked. */
class SweepTablesTest {

    static SweepPoint point(double t, double soft, int epochs, double mean, boolean chosen) {
        return new SweepPoint("p", t, soft, 1 - soft, epochs, 0.001, "constant", 0, mean, 0.01, List.of(mean, mean),
                1, chosen, null, null);
    }

    static final SweepEntry KD = new SweepEntry("student-from-teacher", "student", "student", "T4-s0.5-h0.5", List.of(
            point(1, 0.5, 10, 0.80, false), point(1, 0.9, 10, 0.81, false),
            point(4, 0.5, 10, 0.90, true), point(4, 0.9, 10, 0.82, false), point(4, 0.9, 20, 0.85, false)));

    @Test
    void oneTablePerSettingOfTheOtherAxesTemperatureDownWeightsAcross() {
        List<SweepTables.Table> tables = SweepTables.tables(KD);
        assertEquals(2, tables.size(), "10 and 20 epochs");
        SweepTables.Table t = tables.get(0);
        assertArrayEquals(new String[] {"T \\ soft/hard", "0.5/0.5", "0.9/0.1"}, t.rows().get(0));
        assertArrayEquals(new String[] {"1", "0.8000 ± 0.0100", "0.8100 ± 0.0100"}, t.rows().get(1));
        assertArrayEquals(new String[] {"4", "0.9000 ± 0.0100", "0.8200 ± 0.0100"}, t.rows().get(2));
        assertEquals(2, t.chosenRow());
        assertEquals(1, t.chosenColumn());
        assertTrue(tables.get(0).caption().contains("10 epochs"));
        assertArrayEquals(new String[] {"4", "0.8500 ± 0.0100"}, tables.get(1).rows().get(1), "only the weights it has");
        assertEquals(-1, tables.get(1).chosenRow());
    }

    @Test
    void decoupledKdPointsGetAColumnPerAlphaAndBetaAfterKdsWeights() {
        SweepPoint beta8 = new SweepPoint("dkd-T4", 4.0, null, 1.0, 10, 0.001, "constant", 0, 0.91, 0.01,
                List.of(0.9, 0.92), 1, true, 1.0, 8.0);
        SweepPoint beta1 = new SweepPoint("dkd-T4-b1", 4.0, null, 1.0, 10, 0.001, "constant", 0, 0.89, 0.01,
                List.of(0.88, 0.90), 1, false, 1.0, 1.0);
        SweepEntry mixed = new SweepEntry("student-from-teacher", "student", "student", "dkd-T4", List.of(
                point(4, 0.5, 10, 0.90, false), beta8, beta1));
        SweepTables.Table t = SweepTables.tables(mixed).get(0);
        assertArrayEquals(new String[] {"T \\ soft/hard or method", "0.5/0.5", "dkd a1 b8, hard 1", "dkd a1 b1, hard 1"},
                t.rows().get(0));
        assertArrayEquals(new String[] {"4", "0.9000 ± 0.0100", "0.9100 ± 0.0100", "0.8900 ± 0.0100"}, t.rows().get(1));
        assertEquals(2, t.chosenColumn());
    }

    @Test
    void aSummaryWrittenBeforeAlphaAndBetaWereRecordedStillRenders() {
        SweepPoint old = new SweepPoint("dkd-T4", 4.0, null, 1.0, 10, 0.001, "constant", 0, 0.91, 0.01,
                List.of(0.9, 0.92), 1, true, null, null);
        SweepTables.Table t = SweepTables.tables(new SweepEntry("s", "student", "student", "dkd-T4", List.of(old))).get(0);
        assertArrayEquals(new String[] {"T \\ soft/hard or method", "dkd, hard 1"}, t.rows().get(0));
    }

    @Test
    void markdownAndHtmlMarkTheChosenCell() {
        RunSummary s = new RunSummary("r", "c", "a", "b", new RunSummary.Dataset("d", "8x8x1", 10, 1, 1, 1),
                List.of(0L), List.of(), Map.of(), Map.of(), List.of(KD), null);
        String md = SweepTables.markdown(s);
        assertTrue(md.contains("| **0.9000 ± 0.0100** |"), md);
        assertTrue(md.contains("Chosen for student-from-teacher: T4-s0.5-h0.5."), md);
        String html = SweepTables.html(s);
        assertTrue(html.contains("<td class=\"n chosen\"><strong>0.9000 ± 0.0100</strong></td>"), html);
        assertEquals("", SweepTables.markdown(new RunSummary("r", "c", "a", "b", s.dataset(), List.of(0L), List.of(),
                Map.of(), Map.of(), null, null)), "nothing for a run without a sweep");
    }
}
