package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The summary table's size column: a file far smaller than the teacher's shows the ratio too. */
class SummaryTableTest {

    @Test
    void aFileUnderATenthOfTheTeachersShowsItsRatio() {
        assertEquals("0.6% (1/163)", SummaryTable.fileShare(18_800, 3_063_063));
        assertEquals("3.1% (1/32)", SummaryTable.fileShare(95_871, 3_063_063));
    }

    @Test
    void aLargerFileShowsItsPercentageOnly() {
        assertEquals("12.9%", SummaryTable.fileShare(394_756, 3_063_063));
        assertEquals("100.0%", SummaryTable.fileShare(100, 100));
    }
}
