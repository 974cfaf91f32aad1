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

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/<name>-<timestamp>); "
            + "with --spark also a Hadoop FileSystem URI (hdfs://, s3a://), the driver keeping a copy under runs/.")
    String out;

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
        java.net.URI elsewhere = runDirectoryElsewhere(out);
        // everything is read and checked before the run directory exists: bad input leaves nothing behind
        ExperimentConfig experiment = options.load(config);
        dev.distill.runner.pipeline.ExperimentPlan.confirmSize(dev.distill.runner.pipeline.ExperimentPlan.of(experiment),
                experiment, yes);
        ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
        // another config's models this one loads (from:): their runs are made, or reused, once all else is checked
        dev.distill.runner.pipeline.Dependencies.make(experiment, console, System.console() != null);
        Map<String, dev.distill.models.network.Network> pretrained = PretrainedModels.load(experiment, data);
        // opened before the run directory exists: without Spark on the class path, nothing is left behind
        try (TrainingRunner runner = spark == null ? null : TrainingRunner.open(spark, console, elsewhere)) {
            Path dir = out == null || elsewhere != null ? null
                    : out.startsWith("file:") ? Path.of(java.net.URI.create(out)) : Path.of(out);
            run(experiment, data, pretrained, runner, console, dir, elsewhere);
        }
        return 0;
    }

    /**
     * {@code --out} as a URI of another file system than this machine's (hdfs://, s3a://), or null: a
     * path (or a file: URI). Such a run directory is written by Spark's tasks through Hadoop's FileSystem,
     * so it needs --spark; a local run would make a relative directory named after the URI.
     */
    private java.net.URI runDirectoryElsewhere(String out) {
        if (out == null || !out.matches("[A-Za-z][A-Za-z0-9+.-]+:/.*") || out.startsWith("file:")) {
            return null;
        }
        if (spark == null) {
            throw new dev.distill.core.DistillException("--out " + out + ": a run directory on another file system "
                    + "needs --spark (its tasks write there through Hadoop's FileSystem); without it, give a local or "
                    + "mounted path");
        }
        try {
            return new java.net.URI(out);
        } catch (java.net.URISyntaxException e) {
            throw new dev.distill.core.DistillException("--out " + out + ": not a URI: " + e.getMessage(), e);
        }
    }

    private void run(ExperimentConfig experiment, ExperimentData data,
            Map<String, dev.distill.models.network.Network> pretrained, TrainingRunner runner, PrintStream console,
            Path dir, java.net.URI elsewhere) {
        RunDirectory run = RunDirectory.create(experiment.name(), dir);
        if (elsewhere != null) {
            console.printf("run directory %s, the driver's copy in %s%n", elsewhere, run.root());
        }
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
