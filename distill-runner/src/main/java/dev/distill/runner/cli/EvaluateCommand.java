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

@Command(name = "evaluate", description = "Test accuracy of a saved DL4J model on the test split of a config's data.")
final class EvaluateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", description = "A DL4J model file (e.g. runs/<run>/models/student.zip).")
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
        dev.distill.models.build.Network net = PretrainedModels.loadChecked(model, data.test().features(), experiment.data().classes());
        double accuracy = Accuracy.of(net, data.test());
        out.printf(Locale.ROOT, "%s: test accuracy %.4f on %,d %s test examples (%,d params)%n", model, accuracy,
                data.test().size(), data.name(), net.numParams());
        return 0;
    }
}
