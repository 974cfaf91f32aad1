package dev.distill.runner.cli;

import dev.distill.core.DistillException;
import dev.distill.core.data.LabeledData;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.prune.Sensitivity;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.ReportFiles;
import dev.distill.runner.report.RunSummary;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sensitivity", mixinStandardHelpOptions = true, description = "Accuracy with each layer's weights magnitude-pruned alone at sparsity "
        + "0.1 .. 0.9 (no fine-tuning), for a model of a finished run: a table, and a CSV for plotting.")
final class SensitivityCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", description = "A finished run directory.")
    Path run;

    @Option(names = "--model", required = true, paramLabel = "ID",
            description = "A model id of the run (student-from-teacher), or a model name (student: the chains' final "
                    + "student of that name, the first if there are several).")
    String model;

    @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "validation",
            description = "validation (default: what pruning decisions may look at) or test.")
    String split;

    @Option(names = "--out", paramLabel = "FILE",
            description = "The CSV (layer, weights, sparsity, accuracy); default RUN_DIR/sensitivity-<id>.csv.")
    Path out;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream console = DistillCli.Streams.out;
        if (!split.equals("validation") && !split.equals("test")) {
            throw new DistillException("--split must be validation or test, got '" + split + "'");
        }
        RunSummary summary = ReportData.readSummary(run);
        RunSummary.ModelEntry entry = find(summary);
        ExperimentConfig config = ConfigLoader.load(run.resolve(ReportData.CONFIG));
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        LabeledData on = split.equals("test") ? data.test() : data.validation();
        Path file = run.resolve(entry.file());
        MultiLayerNetwork net;
        try {
            net = dev.distill.core.modelfile.ModelReader.network(file).sequential("distill sensitivity");
        } catch (IllegalArgumentException e) {
            throw new DistillException(file + ": " + e.getMessage(), e);
        }
        double[] sparsities = Sensitivity.tenths();
        double full = Accuracy.of(net, on);
        List<Sensitivity.Point> points = Sensitivity.scan(net, on, sparsities);

        console.printf(Locale.ROOT, "%s: %s accuracy %.4f unpruned (%,d %s examples); each layer pruned alone:%n%n",
                entry.id(), split, full, on.size(), split);
        Map<String, List<Sensitivity.Point>> byLayer = points.stream()
                .collect(Collectors.groupingBy(Sensitivity.Point::layer, LinkedHashMap::new, Collectors.toList()));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-12s %9s", "layer", "weights"));
        for (double s : sparsities) {
            header.append(String.format(Locale.ROOT, " %6.1f", s));
        }
        console.println(header);
        List<String> csv = new ArrayList<>(List.of("layer,weights,sparsity,accuracy"));
        byLayer.forEach((layer, row) -> {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s %,9d", layer, row.get(0).weights()));
            csv.add(String.format(Locale.ROOT, "%s,%d,0.0,%.6f", layer, row.get(0).weights(), full));
            for (Sensitivity.Point p : row) {
                line.append(String.format(Locale.ROOT, " %6.4f", p.accuracy()));
                csv.add(String.format(Locale.ROOT, "%s,%d,%.1f,%.6f", layer, p.weights(), p.sparsity(), p.accuracy()));
            }
            console.println(line);
        });
        Path target = out != null ? out : run.resolve("sensitivity-" + entry.id() + ".csv");
        ReportFiles.write(target, String.join("\n", csv) + "\n");
        console.println();
        console.println("wrote " + target);
        return 0;
    }

    private RunSummary.ModelEntry find(RunSummary summary) {
        for (RunSummary.ModelEntry m : summary.models()) {
            if (m.id().equals(model)) {
                return m;
            }
        }
        for (RunSummary.ModelEntry m : summary.models()) {
            if (m.model().equals(model) && m.role().equals("student")) {
                return m;
            }
        }
        throw new DistillException(run + ": no model '" + model + "'; its models: "
                + summary.models().stream().map(RunSummary.ModelEntry::id).collect(Collectors.joining(", ")));
    }
}
