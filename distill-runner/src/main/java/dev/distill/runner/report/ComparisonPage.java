package dev.distill.runner.report;

import static dev.distill.runner.report.Html.escape;
import static dev.distill.runner.report.Html.td;
import static dev.distill.runner.report.Html.th;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The page {@code distill compare --out} writes: every model of several runs in one table and on one
 * accuracy-vs-size plot (one series and one Pareto front per run). It reads the summaries only, so
 * that comparing many runs does not load their models.
 */
public final class ComparisonPage {

    private ComparisonPage() {
    }

    /** A finished run as compare sees it: its directory as given and its summary. */
    public record Run(String directory, RunSummary summary) {
    }

    public static String render(List<Run> runs) {
        StringBuilder h = new StringBuilder(Html.open("distill: comparison of " + runs.size() + " runs"));
        h.append("<h1>Comparison of ").append(runs.size()).append(" runs</h1>\n<table id=\"runs\">\n")
                .append(th("run", "directory", "data", "seeds", "finished"));
        for (Run r : runs) {
            RunSummary s = r.summary();
            h.append("<tr>").append(td(label(r), false)).append(td(r.directory(), false))
                    .append(td(s.dataset().name() + ", " + s.dataset().test() + " test examples", false))
                    .append(td(s.seeds().toString(), false)).append(td(s.finished(), false)).append("</tr>\n");
        }
        h.append("</table>\n<h2 id=\"models\">Models</h2>\n<table id=\"models-table\">\n").append(th("run", "model",
                "role", "distilled from", "test accuracy", "vs its teacher", "params", "non-zero params", "file bytes",
                "multiply-adds / example"));
        List<Charts.ParetoGroup> groups = new ArrayList<>();
        for (Run r : runs) {
            RunSummary s = r.summary();
            RunSummary.ModelEntry teacher = s.models().stream().filter(m -> m.role().equals("teacher")).findFirst()
                    .orElse(null);
            for (RunSummary.ModelEntry m : s.models()) {
                h.append("<tr data-model=\"").append(escape(m.id())).append("\">").append(td(label(r), false))
                        .append(td(m.id(), false)).append(td(m.role(), false))
                        .append(td(Objects.toString(m.distillation().distilledFrom(), ""), false))
                        .append(td(Figures.accuracy(m), true))
                        .append(td(teacher == null || m == teacher ? "" : Figures.points(m.accuracy() - teacher.accuracy()),
                                true))
                        .append(td(Figures.count(m.params()), true))
                        .append(td(m.nonzeroParams() == null ? "not recorded" : Figures.count(m.nonzeroParams()), true))
                        .append(td(Figures.count(m.fileBytes()), true))
                        .append(td(m.flopsPerSample() == null ? "n/a" : Figures.count(m.flopsPerSample()), true))
                        .append("</tr>\n");
            }
            groups.add(new Charts.ParetoGroup(label(r), HtmlReport.points(s), false));
        }
        h.append("</table>\n<h2 id=\"pareto\">Accuracy vs file size</h2>\n");
        h.append(Html.img(Charts.dataUri(Charts.pareto("test accuracy vs file size", groups, 1000, 600)),
                "test accuracy against file bytes, all runs", "One series per run; each run's line is its Pareto "
                        + "front. Accuracies of different data sets are not comparable with each other."));
        return h.append(Html.close()).toString();
    }

    /** Runs are named by their config name, with the directory's name when two share one. */
    private static String label(Run r) {
        String dir = java.nio.file.Path.of(r.directory()).getFileName() == null ? r.directory()
                : java.nio.file.Path.of(r.directory()).getFileName().toString();
        return dir.equals(r.summary().name()) ? dir : r.summary().name() + " (" + dir + ")";
    }
}
