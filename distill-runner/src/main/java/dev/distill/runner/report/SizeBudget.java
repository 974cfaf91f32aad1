package dev.distill.runner.report;

import java.util.List;
import java.util.Locale;

/**
 * The rule that picks the model the report highlights, and says itself in words on the page. Without
 * a byte budget: the smallest file among models within {@value #TOLERANCE_POINTS} point of the best
 * student's mean accuracy (distilled or baseline), because a difference of less than a point is
 * usually within the seed-to-seed spread of a small student while file size is exact. With a budget:
 * the most accurate model whose file fits in it.
 */
public record SizeBudget(Long maxBytes) {

    public static final double TOLERANCE_POINTS = 1.0;

    public static SizeBudget defaultRule() {
        return new SizeBudget(null);
    }

    /** The highlighted model, or null if no model fits the budget. */
    public RunSummary.ModelEntry pick(List<RunSummary.ModelEntry> models) {
        if (maxBytes != null) {
            RunSummary.ModelEntry best = null;
            for (RunSummary.ModelEntry m : models) {
                if (m.fileBytes() <= maxBytes && (best == null || m.accuracy() > best.accuracy())) {
                    best = m;
                }
            }
            return best;
        }
        double bestStudent = models.stream().filter(SizeBudget::isStudent)
                .mapToDouble(RunSummary.ModelEntry::accuracy).max()
                .orElse(models.stream().mapToDouble(RunSummary.ModelEntry::accuracy).max().orElse(0));
        RunSummary.ModelEntry pick = null;
        for (RunSummary.ModelEntry m : models) {
            if (m.accuracy() >= bestStudent - TOLERANCE_POINTS / 100 - 1e-12
                    && (pick == null || m.fileBytes() < pick.fileBytes()
                            || m.fileBytes() == pick.fileBytes() && m.accuracy() > pick.accuracy())) {
                pick = m;
            }
        }
        return pick;
    }

    /** The rule in one sentence, for the page. */
    public String describe() {
        if (maxBytes != null) {
            return String.format(Locale.ROOT, "the most accurate model whose file is at most %,d bytes (--budget-bytes)",
                    maxBytes);
        }
        return String.format(Locale.ROOT, "the smallest file among models within %.0f point of the best student's "
                + "test accuracy (choose a byte budget with --budget-bytes)", TOLERANCE_POINTS);
    }

    private static boolean isStudent(RunSummary.ModelEntry m) {
        return m.role().equals("student") || m.role().equals("baseline") || m.role().equals("stage");
    }
}
