package dev.distill.runner.cli;

import dev.distill.runner.bench.BusyMachine;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.Pipeline;
import dev.distill.runner.pipeline.PretrainedModels;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.pipeline.RunLock;
import dev.distill.runner.pipeline.TrainingRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Train the chains of a config and write a run directory.")
final class RunCommand implements Callable<Integer> {

    @Parameters(paramLabel = "CONFIG", description = "The experiment's YAML file.")
    Path config;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/<name>-<timestamp>).")
    Path out;

    @Mixin
    ConfigOptions options;

    @Option(names = "--yes", description = "Start even a plan of more than "
            + dev.distill.runner.pipeline.ExperimentPlan.CONFIRM_ABOVE + " trainings (many seeds or sweep points).")
    boolean yes;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Train the plan's independent trainings as Spark "
            + "tasks on MASTER (e.g. local[2]), in waves by the plan's dependency order; same run directory and figures.")
    String spark;

    @Override
    public Integer call() {
        PrintStream console = DistillCli.Streams.out;
        out = localRunDirectory(out);
        // everything is read and checked before the run directory exists: bad input leaves nothing behind
        ExperimentConfig experiment = options.load(config);
        dev.distill.runner.pipeline.ExperimentPlan.confirmSize(dev.distill.runner.pipeline.ExperimentPlan.of(experiment),
                experiment, yes);
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        // another config's models this one loads (from:): their runs are made, or reused, once all else is checked
        dev.distill.runner.pipeline.Dependencies.make(experiment, console, System.console() != null);
        Map<String, dev.distill.models.network.Network> pretrained = PretrainedModels.load(experiment, data);
        // opened before the run directory exists: without Spark on the class path, nothing is left behind
        try (TrainingRunner runner = spark == null ? null : TrainingRunner.open(spark, console)) {
            run(experiment, data, pretrained, runner, console);
        }
        return 0;
    }

    /**
     * {@code --out} as a local (or mounted) path: a {@code file:} URI is one; another scheme (hdfs://,
     * s3a://) is not yet, and would otherwise become a relative directory named after it.
     */
    private static Path localRunDirectory(Path out) {
        if (out == null || !out.toString().matches("[A-Za-z][A-Za-z0-9+.-]+:/.*")) {
            return out;
        }
        if (out.toString().startsWith("file:")) {
            return Path.of(java.net.URI.create(out.toString()));
        }
        throw new dev.distill.core.DistillException("--out " + out + ": the run directory must be a local or mounted "
                + "path (or a file: URI); Spark tasks reach it through Hadoop's FileSystem with "
                + "spark.distill.hadoopRunDirectory=true (docs/spark.md)");
    }

    private void run(ExperimentConfig experiment, ExperimentData data,
            Map<String, dev.distill.models.network.Network> pretrained, TrainingRunner runner, PrintStream console) {
        RunDirectory run = RunDirectory.create(experiment.name(), out);
        try (RunLock lock = RunLock.acquire(run.root(), console)) {
            console.printf("distill run %s: %s, %,d train / %,d validation / %,d test examples -> %s%n",
                    experiment.name(), data.name(), data.train().size(), data.validation().size(), data.test().size(),
                    run.root());
            if (data.scaleWarning() != null) {
                console.println(data.scaleWarning());
            }
            BusyMachine.warning().ifPresent(console::println);
            new Pipeline(experiment, data, pretrained, run, console, System.console() != null, runner).run();
        }
    }
}
