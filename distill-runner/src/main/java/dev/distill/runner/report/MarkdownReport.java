package dev.distill.runner.report;

import java.util.Locale;
import java.util.Map;

/**
 * {@code report.md}: what was run, on what, and the comparison table. Made from the summary and the
 * config as run (config.yaml), so that {@code distill report} can write it again from the run directory.
 */
public final class MarkdownReport {

    public static final String FILE = "report.md";

    private MarkdownReport() {
    }

    public static String markdown(RunSummary s, String configYaml) {
        StringBuilder md = new StringBuilder();
        md.append("# ").append(s.name()).append("\n\n");
        md.append("Config: `").append(s.config()).append("`, started ").append(s.started()).append(", finished ")
                .append(s.finished()).append(".\n\n");
        RunSummary.Dataset d = s.dataset();
        md.append(String.format(Locale.ROOT, "Data: %s, input %s, %d classes; %,d training, %,d validation, %,d test "
                + "examples.%n%n", d.name(), d.input(), d.classes(), d.train(), d.validation(), d.test()));
        md.append("Student seeds: ").append(s.seeds()).append(". Distillation loss: soft_weight · T² · "
                + "KL(teacher_T ‖ student_T) + hard_weight · CE(labels, student).\n\n");
        md.append(SummaryTable.markdown(s)).append('\n');
        md.append("Accuracy is on the test split; each model's epoch was chosen on the validation split. "
                + "`file bytes` is the shipped model (architecture and parameters, no optimizer state). "
                + "MACs are multiply-adds per example counted from the architecture.\n\n");
        md.append("Plots, per-layer costs and per-class results: `").append(HtmlReport.FILE).append("`.\n\n");
        md.append(StageTables.markdown(s));
        md.append(SweepTables.markdown(s));
        md.append(AssistantTables.markdown(s));
        md.append("## Provenance\n\n");
        for (Map.Entry<String, String> e : s.provenance().entrySet()) {
            md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        md.append("\n## Config\n\n```yaml\n").append(configYaml).append("```\n");
        return md.toString();
    }
}
