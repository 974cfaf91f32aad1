package dev.distill.runner.report;

import dev.distill.runner.report.RunSummary.AssistantCandidate;
import dev.distill.runner.report.RunSummary.AssistantEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The automatic assistants' choices as tables: per assistant, one row per candidate with its parameters, its
 * own validation accuracy and its student's (mean ± std over seeds: what the choice compares), the chosen one
 * marked. Empty for a run without an automatic assistant.
 */
final class AssistantTables {

    private static final String INTRO = "Each candidate (the student's layers made wider) was distilled from the "
            + "teacher and then taught the student; the one whose student had the best mean validation accuracy was "
            + "kept. Candidates are never tested: only the chosen assistant and its student are, in the table above.";

    private AssistantTables() {
    }

    /** The rows of one choice, header first. */
    static List<String[]> rows(AssistantEntry a) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"candidate", "model", "chosen", "params", "assistant val acc",
            a.student() + " val acc", "s"});
        for (AssistantCandidate c : a.candidates()) {
            String student = c.studentValidationAccuracyStd() != null
                    ? f("%.4f ± %.4f (%d seeds)", c.studentValidationAccuracyMean(), c.studentValidationAccuracyStd(),
                            c.studentValidationAccuracyPerSeed().size())
                    : f("%.4f", c.studentValidationAccuracyMean());
            rows.add(new String[] {c.label(), c.model(), c.chosen() ? "chosen" : "",
                f("%,d", c.params()), f("%.4f", c.assistantValidationAccuracy()), student, f("%.1f", c.trainSeconds())});
        }
        return rows;
    }

    /** One sentence naming the choice. */
    static String sentence(AssistantEntry a) {
        AssistantCandidate chosen = a.candidates().stream().filter(AssistantCandidate::chosen).findFirst().orElseThrow();
        return f("%s: automatic assistant, chose %s (%s) of %d candidates on %s's validation accuracy (%.4f)", a.id(),
                a.chosen(), chosen.model(), a.candidates().size(), a.student(), chosen.studentValidationAccuracyMean());
    }

    /** What the run's closing table adds: each choice and its candidates; empty without automatic assistants. */
    static String text(RunSummary s, boolean markdown) {
        StringBuilder out = new StringBuilder();
        for (AssistantEntry a : s.assistants()) {
            out.append('\n').append(sentence(a)).append(markdown ? ".\n\n" : "\n")
                    .append(SummaryTable.render(rows(a), markdown));
        }
        return out.toString();
    }

    /** The report.md section; empty without automatic assistants. */
    static String markdown(RunSummary s) {
        return s.assistants().isEmpty() ? "" : "## Automatic assistants\n\n" + INTRO + "\n" + text(s, true) + "\n";
    }

    /** The report.html section; empty without automatic assistants. */
    static String html(RunSummary s) {
        if (s.assistants().isEmpty()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<h2 id=\"assistants\">Automatic assistants</h2>\n<p class=\"muted\">")
                .append(Html.escape(INTRO)).append("</p>\n");
        for (AssistantEntry a : s.assistants()) {
            List<String[]> rows = rows(a);
            h.append("<table class=\"sweep\">\n<caption>").append(Html.escape(sentence(a))).append("</caption>\n")
                    .append(Html.th(rows.get(0)));
            for (String[] row : rows.subList(1, rows.size())) {
                h.append(row[2].isEmpty() ? "<tr>" : "<tr class=\"chosen\">");
                for (int c = 0; c < row.length; c++) {
                    h.append(Html.td(row[c], c > 2));
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }
        return h.toString();
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
