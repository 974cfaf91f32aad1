package dev.distill.runner.cli;

import dev.distill.core.eval.Accuracy;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.PretrainedModels;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "evaluate", mixinStandardHelpOptions = true, description = "Test accuracy of a saved DL4J model on the test split of a config's data.")
final class EvaluateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", description = "A model file: DL4J zip, sparse, or packed (runs on distill-runtime).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "CONFIG", description = "Config whose data to use.")
    Path config;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        ExperimentConfig experiment = options.load(config);
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        // ModelReader checks first that it is a regular file: opening a FIFO for its magic number would block for ever
        if (dev.distill.core.modelfile.ModelReader.format(model) == dev.distill.core.modelfile.ModelFormat.PACKED) {
            return evaluatePacked(data, out);
        }
        dev.distill.models.network.Network net = PretrainedModels.loadChecked(model, data.test().features(), experiment.data().classes());
        double accuracy = Accuracy.of(net, data.test());
        // a pruned model stores all its parameters, most of them zeros: both counts say what it holds
        long nonzero = dev.distill.runner.report.SavedModel.of(net).nonzero();
        out.printf(Locale.ROOT, "%s: test accuracy %.4f on %,d %s test examples (%,d params, %,d non-zero)%n", model,
                accuracy, data.test().size(), data.name(), net.numParams(), nonzero);
        return 0;
    }

    /** A packed file runs on distill-runtime: its default path (int8 when the file has one), and float32. */
    private int evaluatePacked(ExperimentData data, PrintStream out) {
        dev.distill.runtime.Model packed = dev.distill.core.modelfile.ModelReader.packed(model);
        if (packed.inputSize() != data.test().features().columns()) {
            throw new dev.distill.core.DistillException(model + ": the model takes " + packed.inputSize()
                    + " input values, the data has " + data.test().features().columns());
        }
        float[][] rows = new float[data.test().size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = data.test().features().getRow(i).toFloatVector();
        }
        for (dev.distill.runtime.Precision p : dev.distill.runtime.Precision.values()) {
            if (!packed.supports(p)) {
                continue;
            }
            dev.distill.runtime.Model m = packed.withPrecision(p);
            int[] predicted = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                predicted[i] = m.classifyPreprocessed(rows[i]);
            }
            out.printf(Locale.ROOT, "%s: test accuracy %.4f on %,d %s test examples (distill-runtime, %s)%n", model,
                    Accuracy.of(predicted, data.test().labels()), data.test().size(), data.name(),
                    p.name().toLowerCase(Locale.ROOT));
        }
        return 0;
    }
}
