package dev.distill.runner.cli;

import dev.distill.runner.pipeline.TrainingRunner;
import dev.distill.runner.bench.BusyMachine;
import dev.distill.core.DistillException;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ConfigDiff;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.Pipeline;
import dev.distill.runner.pipeline.PretrainedModels;
import dev.distill.runner.pipeline.Progress;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.pipeline.RunLock;
import dev.distill.runner.report.ReportData;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "resume", mixinStandardHelpOptions = true, description = "Continue an interrupted run from its last good checkpoints: finished models "
        + "are kept, the interrupted one continues where it stopped, the result is that of a run never stopped.")
final class ResumeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", description = "The run directory of the interrupted run.")
    Path dir;

    @Option(names = "--force", description = "Resume even though config.yaml was edited in a way that changes "
            + "results (the edited config is used; what is finished is kept as it is).")
    boolean force;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Train what is left as Spark tasks on MASTER "
            + "(e.g. local[2]), as run --spark does.")
    String spark;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        RunDirectory run = RunDirectory.open(dir);
        if (run.finished()) {
            out.println(dir + ": finished (it has " + RunDirectory.SUMMARY + "); nothing to resume, nothing changed");
            return 0;
        }
        if (!run.hasProgress()) {
            throw new DistillException(dir + ": nothing to resume: no " + dir.relativize(run.progressFile())
                    + " (not a run directory, or one made before checkpoints existed)");
        }
        Path configFile = dir.resolve(ReportData.CONFIG);
        String edited = read(configFile);
        List<String> changed = ConfigDiff.resultChanging(read(run.checkpointedConfig()), edited);
        if (!changed.isEmpty() && !force) {
            throw new DistillException(configFile + ": edited since the run started, in keys that change results ("
                    + String.join(", ", changed) + "); undo the edit, or resume with --force to use it");
        }
        try (RunLock lock = RunLock.acquire(dir, out)) {
            if (run.finished()) {
                out.println(dir + ": finished while we waited; nothing to resume, nothing changed");
                return 0;
            }
            // a damaged record (its backup read) is said by the pipeline, whose first write heals it
            Progress progress = run.progress();
            // relative paths in the config are relative to where it was first loaded from
            Path base = Path.of(progress.configFile()).toAbsolutePath().getParent();
            ExperimentConfig experiment = ConfigLoader.load(configFile, List.of(), base);
            ExperimentData data = ExperimentData.load(experiment.data(), experiment.seed());
            dev.distill.runner.pipeline.Dependencies.make(experiment, out, System.console() != null);
            var pretrained = PretrainedModels.load(experiment, data);
            if (!changed.isEmpty()) {
                out.println("--force: resuming with the edited " + ReportData.CONFIG + " (" + String.join(", ", changed)
                        + " changed); what is finished is kept");
                run.write(dir.relativize(run.checkpointedConfig()).toString(), edited);
            }
            out.printf("distill resume %s: %d training run(s) finished earlier%n", dir, progress.finished().size());
            BusyMachine.warning().ifPresent(out::println);
            try (TrainingRunner runner = spark == null ? null : TrainingRunner.open(spark, out)) {
                new Pipeline(experiment, data, pretrained, run, out, System.console() != null, runner).run();
            }
        }
        return 0;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
