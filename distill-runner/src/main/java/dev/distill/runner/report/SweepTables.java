package dev.distill.runner.report;

import dev.distill.runner.report.RunSummary.SweepEntry;
import dev.distill.runner.report.RunSummary.SweepPoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The sweeps as tables: per swept link, temperature down, soft/hard weight (or dkd) across, the mean ± std over
 * seeds of the validation accuracy in each cell, the chosen cell marked; one table per setting of the
 * other axes (epochs, learning rate, schedule, weight decay). A link trained on labels alone (a
 * baseline, a teacher) gets one row per training setting. Empty for a run without a sweep.
 */
public final class SweepTables {

    /** One table: a caption and its rows (the first is the header); {@code chosen} marks the chosen cell. */
    record Table(String caption, List<String[]> rows, int chosenRow, int chosenColumn) {
    }

    private SweepTables() {
    }

    static List<Table> tables(SweepEntry sweep) {
        boolean distilled = sweep.points().stream().anyMatch(p -> p.temperature() != null);
        if (!distilled) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"epochs", "learning rate", "schedule", "weight decay", "validation accuracy"});
            int chosen = -1;
            for (SweepPoint p : sweep.points()) {
                rows.add(new String[] {Integer.toString(p.epochs()), number(p.learningRate()), p.schedule(),
                    number(p.weightDecay()), cell(p)});
                chosen = p.chosen() ? rows.size() - 1 : chosen;
            }
            return List.of(new Table(sweep.id() + " (trained on labels alone)", rows, chosen, 4));
        }
        Map<String, List<SweepPoint>> byRest = new LinkedHashMap<>();
        for (SweepPoint p : sweep.points()) {
            byRest.computeIfAbsent(String.format(Locale.ROOT, "%d epochs, learning rate %s, %s schedule, weight decay %s",
                    p.epochs(), number(p.learningRate()), p.schedule(), number(p.weightDecay())),
                    k -> new ArrayList<>()).add(p);
        }
        List<Table> tables = new ArrayList<>();
        for (Map.Entry<String, List<SweepPoint>> e : byRest.entrySet()) {
            TreeSet<Double> temperatures = new TreeSet<>();
            List<String> weights = new ArrayList<>();
            for (SweepPoint p : e.getValue()) {
                temperatures.add(p.temperature());
                String w = weights(p);
                if (!weights.contains(w)) {
                    weights.add(w);
                }
            }
            // kd's columns by soft weight, then dkd's (which has no soft weight)
            weights.sort(java.util.Comparator.comparing((String w) -> w.startsWith(DKD))
                    .thenComparingDouble(w -> w.startsWith(DKD) ? 0 : Double.parseDouble(w.split("/")[0])));
            List<String[]> rows = new ArrayList<>();
            String[] header = new String[weights.size() + 1];
            header[0] = weights.stream().anyMatch(w -> w.startsWith(DKD)) ? "T \\ soft/hard or method" : "T \\ soft/hard";
            for (int c = 0; c < weights.size(); c++) {
                header[c + 1] = weights.get(c);
            }
            rows.add(header);
            int chosenRow = -1;
            int chosenColumn = -1;
            for (double t : temperatures) {
                String[] row = new String[weights.size() + 1];
                java.util.Arrays.fill(row, "");
                row[0] = number(t);
                for (SweepPoint p : e.getValue()) {
                    if (p.temperature() == t) {
                        int c = weights.indexOf(weights(p)) + 1;
                        row[c] = cell(p);
                        if (p.chosen()) {
                            chosenRow = rows.size();
                            chosenColumn = c;
                        }
                    }
                }
                rows.add(row);
            }
            tables.add(new Table(sweep.id() + ": " + e.getKey(), rows, chosenRow, chosenColumn));
        }
        return tables;
    }

    /** The report.md part: a section with every sweep's tables; empty without sweeps. */
    static String markdown(RunSummary s) {
        if (s.sweeps().isEmpty()) {
            return "";
        }
        StringBuilder md = new StringBuilder("## Sweeps\n\n");
        md.append(INTRO).append("\n\n");
        for (SweepEntry sweep : s.sweeps()) {
            md.append("Chosen for ").append(sweep.id()).append(": ").append(sweep.chosen()).append(".\n\n");
            for (Table t : tables(sweep)) {
                md.append("**").append(t.caption()).append("**\n\n");
                List<String[]> rows = new ArrayList<>();
                for (int r = 0; r < t.rows().size(); r++) {
                    String[] row = t.rows().get(r).clone();
                    if (r == t.chosenRow()) {
                        row[t.chosenColumn()] = "**" + row[t.chosenColumn()] + "**";
                    }
                    rows.add(row);
                }
                md.append(SummaryTable.render(rows, true)).append('\n');
            }
        }
        return md.toString();
    }

    /** The report.html part, with the same tables; empty without sweeps. */
    static String html(RunSummary s) {
        if (s.sweeps().isEmpty()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<h2 id=\"sweeps\">Sweeps</h2>\n<p class=\"muted\">")
                .append(Html.escape(INTRO)).append("</p>\n");
        for (SweepEntry sweep : s.sweeps()) {
            for (Table t : tables(sweep)) {
                h.append("<table class=\"sweep\">\n<caption>").append(Html.escape(t.caption())).append("</caption>\n")
                        .append(Html.th(t.rows().get(0)));
                for (int r = 1; r < t.rows().size(); r++) {
                    String[] row = t.rows().get(r);
                    h.append("<tr>");
                    for (int c = 0; c < row.length; c++) {
                        String td = Html.td(row[c], c > 0);
                        h.append(r == t.chosenRow() && c == t.chosenColumn()
                                ? td.replaceFirst("<td class=\"n\">", "<td class=\"n chosen\"><strong>")
                                        .replace("</td>", "</strong></td>")
                                : td);
                    }
                    h.append("</tr>\n");
                }
                h.append("</table>\n");
            }
        }
        return h.toString();
    }

    private static final String INTRO = "Validation accuracy (mean ± std over seeds, each seed's best epoch) of every "
            + "point; the point in bold was chosen, on validation alone, and its test accuracy is the model's in the "
            + "table above. The points were not tested.";

    private static final String DKD = "dkd";

    /** A column: kd's soft/hard weights, or {@code dkd a1 b8, hard 1} for decoupled KD (no soft weight). */
    private static String weights(SweepPoint p) {
        if (p.softWeight() != null) {
            return number(p.softWeight()) + "/" + number(p.hardWeight());
        }
        // summaries written before alpha and beta were recorded have neither
        return DKD + (p.alpha() == null ? "" : " a" + number(p.alpha()) + " b" + number(p.beta()))
                + ", hard " + number(p.hardWeight());
    }

    private static String cell(SweepPoint p) {
        return p.validationAccuracyStd() == null ? String.format(Locale.ROOT, "%.4f", p.validationAccuracyMean())
                : String.format(Locale.ROOT, "%.4f ± %.4f", p.validationAccuracyMean(), p.validationAccuracyStd());
    }

    private static String number(double v) {
        return dev.distill.runner.config.SweepConfig.number(v);
    }
}
