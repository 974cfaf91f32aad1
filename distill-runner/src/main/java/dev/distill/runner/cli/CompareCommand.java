package dev.distill.runner.cli;

import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.report.Json;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.SummaryTable;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compare", description = "Print the comparison table of one or more finished runs.")
final class CompareCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories.")
    List<Path> runs;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        for (Path dir : runs) {
            RunSummary summary = Json.readSummary(RunDirectory.finishedSummary(dir));
            out.printf("%s (%s, %s): %s%n", summary.name(), summary.dataset().name(), dir, summary.finished());
            out.print(SummaryTable.text(summary));
            out.println();
        }
        return 0;
    }
}
