package dev.distill.runner.cli;

import dev.distill.core.DistillException;
import dev.distill.runner.pipeline.Backfill;
import dev.distill.runner.report.HtmlReport;
import dev.distill.runner.report.MarkdownReport;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.ReportFiles;
import dev.distill.runner.report.SizeBudget;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true, description = "Write report.html and report.md of a finished run again, from its directory alone.")
final class ReportCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", description = "A finished run directory (one with summary.json).")
    Path run;

    @Option(names = "--budget-bytes", paramLabel = "BYTES",
            description = "Highlight the most accurate model whose file is at most BYTES (default: the smallest file "
                    + "within 1 point of the best student's accuracy).")
    Long budgetBytes;

    @Option(names = "--backfill", description = "For runs made before predictions and per-layer costs were saved: "
            + "read config.yaml's data again and predict the test set with the saved models (writes predictions/).")
    boolean backfill;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        if (budgetBytes != null && budgetBytes <= 0) {
            throw new DistillException("--budget-bytes must be a positive number of bytes, got " + budgetBytes);
        }
        ReportData data = backfill ? ReportData.of(run, Backfill.apply(run, ReportData.readSummary(run), out))
                : ReportData.read(run);
        ReportFiles.writeMarkdown(data);
        ReportFiles.writeHtml(data, budgetBytes == null ? SizeBudget.defaultRule() : new SizeBudget(budgetBytes));
        out.println("wrote " + run.resolve(HtmlReport.FILE) + " and " + run.resolve(MarkdownReport.FILE));
        return 0;
    }
}
