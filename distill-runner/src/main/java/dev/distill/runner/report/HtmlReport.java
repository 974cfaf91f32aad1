package dev.distill.runner.report;

import static dev.distill.runner.report.Html.escape;
import static dev.distill.runner.report.Html.td;
import static dev.distill.runner.report.Html.th;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code report.html}: one self-contained page answering what each model kept (accuracy, per class),
 * what it costs (parameters, non-zero parameters, file bytes, multiply-adds; per layer) and which one to
 * ship; with the training curves, the run's provenance, timings and config. The page holds no date of
 * its own, so that regenerating it from the same run directory gives the same file.
 */
public final class HtmlReport {

    public static final String FILE = "report.html";

    /** Fashion-MNIST's class names, in label order; other data sets are shown by class index. */
    private static final List<String> FASHION_MNIST = dev.distill.runner.config.DataSource.FashionMnist.CLASS_NAMES;

    private HtmlReport() {
    }

    public static String render(ReportData data, SizeBudget budget) {
        RunSummary s = data.summary();
        StringBuilder h = new StringBuilder(Html.open(s.name() + " - distill report"));
        h.append("<h1>").append(escape(s.name())).append("</h1>\n");
        RunSummary.Dataset d = s.dataset();
        h.append("<p class=\"muted\">").append(escape(Figures.f("%s, input %s, %d classes; %,d training, %,d validation, "
                + "%,d test examples. Student seeds %s. Started %s, finished %s.", d.name(), d.input(), d.classes(),
                d.train(), d.validation(), d.test(), s.seeds(), s.started(), s.finished()))).append("</p>\n");
        h.append("<nav><a href=\"#models\">Models</a><a href=\"#curves\">Training curves</a>"
                + "<a href=\"#pareto\">Accuracy vs size</a><a href=\"#layers\">Layers</a>"
                + "<a href=\"#classes\">Per class</a><a href=\"#timing\">Timing</a>"
                + "<a href=\"#provenance\">Provenance</a><a href=\"#config\">Config</a></nav>\n");
        models(h, data, budget);
        verdicts(h, s);
        h.append(SweepTables.html(s));
        h.append(AssistantTables.html(s));
        curves(h, data);
        pareto(h, data);
        layers(h, data);
        classes(h, data);
        timing(h, data);
        provenance(h, s);
        h.append("<h2 id=\"config\">Config (as run, overrides applied)</h2>\n<pre>").append(escape(data.configYaml()))
                .append("</pre>\n");
        return h.append(Html.close()).toString();
    }

    private static void models(StringBuilder h, ReportData data, SizeBudget budget) {
        RunSummary s = data.summary();
        RunSummary.ModelEntry teacher = data.teacher();
        RunSummary.ModelEntry pick = budget.pick(s.models());
        h.append("<h2 id=\"models\">Models</h2>\n<table id=\"models-table\">\n");
        h.append(th("model", "role", "distilled from", "test accuracy", "vs teacher", "params", "non-zero params",
                "file bytes", "multiply-adds / example", "s / epoch"));
        for (RunSummary.ModelEntry m : s.models()) {
            boolean isTeacher = m == teacher;
            long nonzero = nonzero(data, m);
            h.append(m == pick ? "<tr class=\"pick\" data-model=\"" : "<tr data-model=\"").append(escape(m.id()))
                    .append("\">");
            h.append(td(m.id(), false)).append(td(m.role(), false))
                    .append(td(m.distillation().distilledFrom() == null ? ""
                            : m.distillation().distilledFrom() + temperature(m), false));
            h.append(td(Figures.accuracy(m), true));
            h.append(td(teacher == null || isTeacher ? "" : Figures.points(m.accuracy() - teacher.accuracy()), true));
            h.append(td(withShare(m.params(), teacher == null || isTeacher ? 0 : teacher.params()), true));
            h.append(td(withShare(nonzero, teacher == null || isTeacher ? 0 : nonzero(data, teacher)), true));
            h.append(td(withShare(m.fileBytes(), teacher == null || isTeacher ? 0 : teacher.fileBytes()), true));
            h.append(td(m.flopsPerSample() == null ? "n/a (loaded model)"
                    : withShare(m.flopsPerSample(), teacher == null || isTeacher || teacher.flopsPerSample() == null ? 0
                            : teacher.flopsPerSample()), true));
            Double secondsPerEpoch = m.training().secondsPerEpoch();
            h.append(td(secondsPerEpoch == null ? "" : Figures.f("%.1f", secondsPerEpoch), true));
            h.append("</tr>\n");
        }
        h.append("</table>\n<p>");
        if (pick != null) {
            h.append("Highlighted: <strong>").append(escape(pick.id())).append("</strong>, ");
        } else {
            h.append("No model is highlighted: none meets ");
        }
        h.append(escape(budget.describe())).append(".</p>\n");
        h.append("<p class=\"muted\">Test accuracy: mean ± sample standard deviation over the student seeds "
                + "(teacher and assistants are trained once). Percentages are of the teacher's figure. Non-zero "
                + "parameters are counted in the saved model file; file bytes are the shipped file (architecture and "
                + "parameters, no optimizer state); multiply-adds are counted from the architecture. Inference "
                + "latency is not measured yet.</p>\n");
    }

    /**
     * Did distillation help: the verdict the console and report.md print ({@link KdVerdict}'s words: gain
     * ± standard error against the baseline, Welch's p), one line per distilled model with a baseline,
     * so that the page's reader need not compare means by eye.
     */
    private static void verdicts(StringBuilder h, RunSummary s) {
        List<RunSummary.ModelEntry> judged = s.models().stream().filter(m -> m.verdict().kdVerdict() != null).toList();
        if (judged.isEmpty()) {
            return;
        }
        h.append("<h3 id=\"verdict\">Did distillation help?</h3>\n<ul id=\"verdicts\">\n");
        for (RunSummary.ModelEntry m : judged) {
            String kind = KdVerdict.outcome(m.verdict().kdGain(), m.verdict().kdGainP());
            h.append("<li class=\"verdict-").append(kind).append("\" data-model=\"").append(escape(m.id()))
                    .append("\"><strong>").append(escape(m.id())).append("</strong>: ").append(escape(m.verdict().kdVerdict()))
                    .append("</li>\n");
        }
        h.append("</ul>\n<p class=\"muted\">Gain: the distilled model's mean test accuracy minus its baseline's (the "
                + "same architecture trained on labels alone, same seeds), ± its standard error; Welch's two-sided "
                + "t-test over the seeds, called a difference below p=" + KdVerdict.SIGNIFICANCE + ".</p>\n");
    }

    private static String temperature(RunSummary.ModelEntry m) {
        return m.distillation().temperature() == null ? "" : Figures.f(" (T=%s)", trim(m.distillation().temperature()));
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static long nonzero(ReportData data, RunSummary.ModelEntry m) {
        SavedModel saved = data.saved().get(m.id());
        return saved != null ? saved.nonzero() : m.nonzeroParams() != null ? m.nonzeroParams() : m.params();
    }

    private static String withShare(long value, long teacher) {
        return teacher == 0 ? Figures.count(value) : Figures.count(value) + " (" + Figures.share(value, teacher) + ")";
    }

    /** Curves are grouped by architecture: a distilled student and its baseline share one chart. */
    private static void curves(StringBuilder h, ReportData data) {
        h.append("<h2 id=\"curves\">Training curves</h2>\n<p class=\"muted\">Per epoch, averaged over seeds where a "
                + "model was trained with several. The training loss of a distilled model includes the soft term "
                + "(soft_weight · T² · KL), so its scale differs from a baseline's cross-entropy: compare its shape; "
                + "validation accuracy compares directly.</p>\n");
        Map<String, List<RunSummary.ModelEntry>> byArchitecture = new LinkedHashMap<>();
        for (RunSummary.ModelEntry m : data.summary().models()) {
            byArchitecture.computeIfAbsent(m.model(), k -> new ArrayList<>()).add(m);
        }
        for (Map.Entry<String, List<RunSummary.ModelEntry>> group : byArchitecture.entrySet()) {
            Map<String, double[]> loss = new LinkedHashMap<>();
            Map<String, double[]> accuracy = new LinkedHashMap<>();
            for (RunSummary.ModelEntry m : group.getValue()) {
                double[][] curves = meanCurves(data.epochs(), m.id());
                if (curves[0].length > 0) {
                    loss.put(m.id(), curves[0]);
                    accuracy.put(m.id(), curves[1]);
                }
            }
            if (loss.isEmpty()) {
                continue; // a loaded teacher is not trained
            }
            String name = group.getKey();
            h.append("<h3>").append(escape(name)).append("</h3>\n<div class=\"charts\">\n");
            h.append(Html.img(Charts.dataUri(Charts.epochs(name + ": training loss", "train loss", loss)),
                    name + " training loss per epoch", null));
            h.append(Html.img(Charts.dataUri(Charts.epochs(name + ": validation accuracy", "validation accuracy",
                    accuracy)), name + " validation accuracy per epoch", null));
            h.append("</div>\n");
        }
    }

    /** Mean train loss and validation accuracy per epoch over the seeds of one model. */
    static double[][] meanCurves(List<ReportData.Epoch> epochs, String id) {
        TreeMap<Integer, double[]> sums = new TreeMap<>();
        for (ReportData.Epoch e : epochs) {
            if (e.model().equals(id)) {
                double[] acc = sums.computeIfAbsent(e.epoch(), k -> new double[3]);
                acc[0] += e.trainLoss();
                acc[1] += e.validationAccuracy();
                acc[2]++;
            }
        }
        double[][] out = new double[2][sums.size()];
        int i = 0;
        for (double[] acc : sums.values()) {
            out[0][i] = acc[0] / acc[2];
            out[1][i] = acc[1] / acc[2];
            i++;
        }
        return out;
    }

    private static void pareto(StringBuilder h, ReportData data) {
        List<ParetoFront.Point> points = points(data.summary());
        h.append("<h2 id=\"pareto\">Accuracy vs file size</h2>\n");
        h.append(Html.img(Charts.dataUri(Charts.pareto(data.summary().name() + ": test accuracy vs file size",
                List.of(new Charts.ParetoGroup("", points, true)), 900, 520)), "test accuracy against file bytes",
                "Every model of the run; the line joins the Pareto front (no other model is both smaller and more "
                        + "accurate): " + String.join(", ", ParetoFront.of(points).stream()
                                .map(ParetoFront.Point::label).toList()) + "."));
    }

    static List<ParetoFront.Point> points(RunSummary s) {
        List<ParetoFront.Point> points = new ArrayList<>();
        for (RunSummary.ModelEntry m : s.models()) {
            points.add(new ParetoFront.Point(m.id(), m.fileBytes(), m.accuracy()));
        }
        return points;
    }

    private static void layers(StringBuilder h, ReportData data) {
        h.append("<h2 id=\"layers\">Layers</h2>\n<p class=\"muted\">Per layer of each declared model. Sparsity and bit "
                + "width are read from the saved model file (the first seed's; a stage's pruned or packed file): "
                + "32-bit float except for the weights of a quantized model, at their stored width.</p>\n");
        for (RunSummary.ModelEntry m : data.summary().models()) {
            h.append("<h3>").append(escape(m.id())).append("</h3>\n");
            SavedModel saved = data.saved().get(m.id());
            if (m.layers() == null) {
                h.append("<p>").append(m.flopsPerSample() == null ? "A loaded model: its architecture was not declared"
                        : "This run's summary has no per-layer costs (written by an older version)");
                if (saved != null) {
                    h.append(escape(Figures.f("; its file stores %,d parameters, %,d non-zero.", saved.params(),
                            saved.nonzero())));
                }
                h.append("</p>\n");
                continue;
            }
            // layer i of the spec is DL4J layer i (the factory builds one DL4J layer per declared layer)
            boolean aligned = saved != null && saved.layers().size() == m.layers().size();
            h.append("<table class=\"layers\">\n").append(th("#", "type", "output shape", "params", "multiply-adds",
                    "sparsity", "bit width"));
            for (RunSummary.LayerEntry l : m.layers()) {
                SavedModel.LayerParams p = aligned ? saved.layers().get(l.index()) : null;
                h.append("<tr>").append(td(String.valueOf(l.index()), true)).append(td(l.type(), false))
                        .append(td(l.outputShape(), false)).append(td(Figures.count(l.params()), true))
                        .append(td(Figures.count(l.multiplyAdds()), true))
                        .append(td(p == null || p.params() == 0 ? "" : Figures.f("%.1f%%", 100 * p.sparsity()), true))
                        .append(td(p == null || p.params() == 0 ? "" : p.width(), true)).append("</tr>\n");
            }
            h.append("</table>\n");
        }
    }

    private static void classes(StringBuilder h, ReportData data) {
        h.append("<h2 id=\"classes\">Per class: teacher and shipped student</h2>\n");
        RunSummary.ModelEntry teacher = data.teacher();
        RunSummary.ModelEntry student = data.shippedStudent();
        int[] labels = data.testLabels();
        if (labels == null || teacher == null || student == null || !data.predictions().containsKey(teacher.id())
                || !data.predictions().containsKey(student.id())) {
            h.append("<p>No test predictions in this run directory (runs made before predictions were saved to "
                    + "predictions/): confusion matrices cannot be drawn.</p>\n");
            return;
        }
        List<String> names = classNames(data.summary().dataset());
        ConfusionMatrix t = ConfusionMatrix.of(labels, data.predictions().get(teacher.id()), names.size());
        ConfusionMatrix st = ConfusionMatrix.of(labels, data.predictions().get(student.id()), names.size());
        h.append("<p>Shipped student: <strong>").append(escape(student.id())).append("</strong> (the distilled student "
                + "with the best mean test accuracy; its matrix is of the model in its file, the first seed's). Rows: "
                + "true class; columns: predicted class.</p>\n<div class=\"charts\">\n");
        matrix(h, teacher.id(), t, names);
        matrix(h, student.id(), st, names);
        h.append("</div>\n<h3>Where the student loses most against the teacher</h3>\n");
        h.append("<table id=\"losses\">\n").append(th("class", "teacher recall", "student recall", "difference",
                "student's most frequent mistake"));
        List<Integer> order = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            order.add(c);
        }
        order.sort((a, b) -> Double.compare(t.recall(b) - st.recall(b), t.recall(a) - st.recall(a)));
        int shown = 0;
        for (int c : order) {
            double diff = st.recall(c) - t.recall(c);
            if (diff >= 0 || shown == 5) {
                break;
            }
            int mistake = st.mostFrequentMistake(c);
            h.append("<tr>").append(td(names.get(c), false)).append(td(Figures.f("%.3f", t.recall(c)), true))
                    .append(td(Figures.f("%.3f", st.recall(c)), true)).append(td(Figures.points(diff), true))
                    .append(td(mistake < 0 ? "" : Figures.f("%s (%d of %d)", names.get(mistake), st.count(c, mistake),
                            st.total(c)), false)).append("</tr>\n");
            shown++;
        }
        if (shown == 0) {
            h.append("<tr><td colspan=\"5\">The student's recall is at least the teacher's on every class.</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void matrix(StringBuilder h, String id, ConfusionMatrix m, List<String> names) {
        h.append("<figure><table class=\"cm\"><caption>").append(escape(id)).append(Figures.f(" (accuracy %.4f)",
                m.accuracy())).append("</caption>\n<tr><th></th>");
        for (int c = 0; c < names.size(); c++) {
            h.append("<th title=\"").append(escape(names.get(c))).append("\">").append(c).append("</th>");
        }
        h.append("</tr>\n");
        for (int r = 0; r < names.size(); r++) {
            h.append("<tr><th>").append(escape(names.get(r))).append("</th>");
            for (int c = 0; c < names.size(); c++) {
                int n = m.count(r, c);
                double share = m.total(r) == 0 ? 0 : (double) n / m.total(r);
                // shade by the share of the row: green on the diagonal, red off it
                String color = r == c ? Figures.f("rgba(47,158,68,%.2f)", share)
                        : Figures.f("rgba(224,49,49,%.2f)", Math.min(1, 3 * share));
                h.append("<td style=\"background:").append(n == 0 ? "transparent" : color).append("\">")
                        .append(n == 0 ? "" : String.valueOf(n)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table></figure>\n");
    }

    static List<String> classNames(RunSummary.Dataset d) {
        if (d.name().equals("fashion-mnist") && d.classes() == FASHION_MNIST.size()) {
            return FASHION_MNIST;
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < d.classes(); c++) {
            names.add(String.valueOf(c));
        }
        return names;
    }

    /** What a row of the timing table measured: training, a stage (with its fine-tuning), or loading a file. */
    static String step(RunSummary.ModelEntry m, boolean trained) {
        if (m.stageResult().stage() != null) {
            Object epochs = m.stageResult().stageDetails() == null ? null : m.stageResult().stageDetails().get("fine_tune_epochs");
            boolean tuned = epochs instanceof Number n && n.intValue() > 0;
            return m.stageResult().stage() + (tuned ? " and fine-tune (" + epochs + " epoch" + (((Number) epochs).intValue() == 1
                    ? "" : "s") + ") " : ", no fine-tuning, ");
        }
        return trained ? "train " : "load and evaluate ";
    }

    private static void timing(StringBuilder h, ReportData data) {
        RunSummary s = data.summary();
        h.append("<h2 id=\"timing\">Timing</h2>\n<table id=\"timing-table\">\n")
                .append(th("step", "seconds", "epochs", "s / epoch", "best epoch"));
        for (RunSummary.ModelEntry m : s.models()) {
            long epochs = data.epochs().stream().filter(e -> e.model().equals(m.id())).mapToInt(ReportData.Epoch::epoch)
                    .distinct().count();
            boolean trained = m.training().secondsPerEpoch() != null;
            h.append("<tr>").append(td(step(m, trained) + m.id()
                    + (m.seeds().testAccuracyPerSeed() != null && trained ? " (first seed)" : ""), false))
                    .append(td(Figures.seconds(m.training().trainSeconds()), true))
                    .append(td(trained ? String.valueOf(epochs) : "", true))
                    .append(td(trained ? Figures.f("%.2f", m.training().secondsPerEpoch()) : "", true))
                    .append(td(m.training().bestEpoch() == null ? "" : String.valueOf(m.training().bestEpoch()), true))
                    .append("</tr>\n");
        }
        for (Map.Entry<String, Double> e : new TreeMap<>(s.logitsSeconds()).entrySet()) {
            h.append("<tr>").append(td("logits of " + e.getKey() + " on the training split", false))
                    .append(td(Figures.seconds(e.getValue()), true)).append("<td></td><td></td><td></td></tr>\n");
        }
        try {
            Duration whole = Duration.between(Instant.parse(s.started()), Instant.parse(s.finished()));
            h.append("<tr><th>whole run</th>").append(td(Figures.seconds(whole.toMillis() / 1000.0), true))
                    .append("<td></td><td></td><td></td></tr>\n");
        } catch (RuntimeException e) {
            // an unparsable date in an edited summary: leave the total out rather than fail the page
        }
        h.append("</table>\n<p class=\"muted\">Training seconds are the first seed's run of each model, including "
                + "validation after every epoch.").append(s.logitsSeconds().isEmpty()
                        ? " This run's summary does not record how long the teacher logits took." : "")
                .append("</p>\n");
    }

    private static void provenance(StringBuilder h, RunSummary s) {
        h.append("<h2 id=\"provenance\">Provenance</h2>\n<table id=\"provenance-table\">\n");
        h.append("<tr><th>config file</th>").append(td(s.config(), false)).append("</tr>\n");
        for (Map.Entry<String, String> e : s.provenance().entrySet()) {
            h.append("<tr><th>").append(escape(e.getKey())).append("</th>").append(td(e.getValue(), false))
                    .append("</tr>\n");
        }
        h.append("</table>\n");
    }
}
