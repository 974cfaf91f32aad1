package dev.distill.runner.cli;

import dev.distill.runner.report.ComparisonPage;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.ReportFiles;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.SummaryTable;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compare", mixinStandardHelpOptions = true, description = "Print the comparison table of one or more finished runs; "
        + "with --out, also write one HTML page with all their models and one accuracy-vs-size plot.")
final class CompareCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories.")
    List<Path> runs;

    @Option(names = "--out", paramLabel = "FILE.html", description = "Write the comparison page here.")
    Path html;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        List<ComparisonPage.Run> read = new ArrayList<>();
        // every run is read before anything is printed or written: a bad directory leaves nothing half done
        for (Path dir : runs) {
            read.add(new ComparisonPage.Run(dir.toString(), ReportData.readSummary(dir)));
        }
        for (ComparisonPage.Run r : read) {
            RunSummary summary = r.summary();
            out.printf("%s (%s, %s): %s%n", summary.name(), summary.dataset().name(), r.directory(), summary.finished());
            out.print(SummaryTable.text(summary));
            out.println();
        }
        if (html != null) {
            ReportFiles.write(html, ComparisonPage.render(read));
            out.println("wrote " + html);
        }
        return 0;
    }
}
