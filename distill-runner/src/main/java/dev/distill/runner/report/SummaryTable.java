package dev.distill.runner.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The comparison every run ends with: per model, test accuracy (mean ± std over seeds where there
 * are several), parameters, shipped file size, multiply-adds per example, seconds per epoch, and
 * accuracy and size relative to the run's (first) teacher. Rendered as aligned text or Markdown.
 */
public final class SummaryTable {

    private static final String[] HEADER = {"model", "role", "distilled from", "test acc", "vs teacher", "params",
        "size vs teacher", "file bytes", "MACs/example", "s/epoch"};

    private SummaryTable() {
    }

    public static String text(RunSummary summary) {
        return render(rows(summary), false) + verdicts(summary, "") + AssistantTables.text(summary, false);
    }

    public static String markdown(RunSummary summary) {
        return render(rows(summary), true) + verdicts(summary, "- ");
    }

    /** One line per distilled model with a baseline: did distillation help ({@link KdVerdict}). */
    static String verdicts(RunSummary summary, String bullet) {
        StringBuilder out = new StringBuilder();
        for (RunSummary.ModelEntry m : summary.models()) {
            if (m.verdict().kdVerdict() != null) {
                out.append(bullet).append(m.id()).append(": ").append(m.verdict().kdVerdict()).append('\n');
            }
        }
        return out.length() == 0 ? "" : "\n" + out;
    }

    static List<String[]> rows(RunSummary summary) {
        RunSummary.ModelEntry teacher = summary.models().stream()
                .filter(m -> m.role().equals("teacher")).findFirst().orElse(null);
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (RunSummary.ModelEntry m : summary.models()) {
            double accuracy = m.seeds().testAccuracyMean() != null ? m.seeds().testAccuracyMean() : m.testAccuracy();
            String acc = m.seeds().testAccuracyStd() != null
                    ? f("%.4f ± %.4f (%d seeds)", accuracy, m.seeds().testAccuracyStd(),
                            m.seeds().testAccuracyPerSeed().size())
                    : f("%.4f", accuracy);
            String vsTeacher = "";
            String sizeVsTeacher = "";
            if (teacher != null && m != teacher) {
                double teacherAcc = teacher.seeds().testAccuracyMean() != null ? teacher.seeds().testAccuracyMean()
                        : teacher.testAccuracy();
                vsTeacher = f("%+.2f pts", 100 * (accuracy - teacherAcc));
                sizeVsTeacher = f("%.1f%% params, %s file", 100.0 * m.params() / teacher.params(),
                        fileShare(m.fileBytes(), teacher.fileBytes()));
            }
            // a stage's row names what it did and the model it started from
            String role = m.stageResult().stage() == null ? m.role() : stageRole(m);
            String teacherId = m.distillation().distilledFrom();
            String from = m.stageResult().stage() != null ? m.stageResult().input() : teacherId == null ? "-" : teacherId;
            rows.add(new String[] {m.id(), role, from, acc,
                vsTeacher, f("%,d", m.params()), sizeVsTeacher, f("%,d", m.fileBytes()),
                m.flopsPerSample() == null ? "n/a" : f("%,d", m.flopsPerSample()),
                m.training().secondsPerEpoch() == null ? "-" : f("%.1f", m.training().secondsPerEpoch())});
        }
        return rows;
    }

    /**
     * A file's size as a share of the teacher's: {@code 3.1%}, and from a tenth down also as the ratio
     * ({@code 0.6% (1/163)}), which a percentage of one digit rounds away.
     */
    static String fileShare(long bytes, long teacherBytes) {
        double share = (double) bytes / teacherBytes;
        return share > 0.1 || bytes == 0 ? f("%.1f%%", 100 * share) : f("%.1f%% (1/%.0f)", 100 * share, 1 / share);
    }

    /** What a stage did, in a few words: {@code prune 80.0%}, {@code quantize kmeans 4-bit, 80.0% sparse}. */
    static String stageRole(RunSummary.ModelEntry m) {
        RunSummary.StageResult stage = m.stageResult();
        RunSummary.Quantization q = m.quantization();
        if (q.scheme() == null) {
            return stage.sparsity() == null ? stage.stage() : f("%s %.1f%%", stage.stage(), 100 * stage.sparsity());
        }
        String scheme = q.scheme().equals("int8") ? "int" + q.bits() : q.scheme().equals("binary") ? "binary"
                : f("%s %d-bit", q.scheme(), q.bits());
        return f("%s %s%s", stage.stage(), scheme, stage.sparsity() != null && stage.sparsity() > 0
                ? f(", %.1f%% sparse", 100 * stage.sparsity()) : "");
    }

    static String render(List<String[]> rows, boolean markdown) {
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            StringBuilder line = new StringBuilder(markdown ? "| " : "");
            for (int c = 0; c < columns; c++) {
                // numbers right-aligned, names left-aligned
                boolean left = c < 3;
                String cell = left ? pad(row[c], width[c], false) : pad(row[c], width[c], true);
                line.append(cell).append(markdown ? " | " : "  ");
            }
            out.append(line.toString().stripTrailing()).append('\n');
            if (r == 0) {
                StringBuilder rule = new StringBuilder(markdown ? "|" : "");
                for (int c = 0; c < columns; c++) {
                    rule.append(markdown ? (c < 3 ? "-" : "") + "-".repeat(width[c]) + (c < 3 ? "-|" : ":|")
                            : "-".repeat(width[c]) + "  ");
                }
                out.append(rule.toString().stripTrailing()).append('\n');
            }
        }
        return out.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String spaces = " ".repeat(Math.max(0, width - s.length()));
        return right ? spaces + s : s + spaces;
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
