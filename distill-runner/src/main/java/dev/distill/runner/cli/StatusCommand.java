package dev.distill.runner.cli;

import dev.distill.runner.pipeline.ExperimentPlan;

import dev.distill.core.DistillException;
import dev.distill.core.io.CheckpointStore;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.core.chain.Plan;
import dev.distill.runner.pipeline.Progress;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.pipeline.RunLock;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.RunSummary;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Where a run stands: done, running, resumable or failed, and what is finished.")
final class StatusCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", description = "A run directory.")
    Path dir;

    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream out = DistillCli.Streams.out;
        RunDirectory run = RunDirectory.open(dir);
        if (run.finished()) {
            RunSummary summary = ReportData.readSummary(dir);
            out.printf("%s: done (finished %s): %d models; see %s%n", dir, summary.finished(), summary.models().size(),
                    dir.resolve("report.html"));
            boolean damaged = false;
            for (RunSummary.ModelEntry m : summary.models()) {
                String damage = m.file() == null ? null : run.damage(m.file(), m.fileBytes());
                if (damage != null) {
                    out.printf(Locale.ROOT, "  %-30s DAMAGED: %s %s%n", m.id(), m.file(), damage);
                    damaged = true;
                }
            }
            if (damaged) {
                out.printf("to make the damaged files again: rm %s && distill resume %s%n", dir.resolve(RunDirectory.SUMMARY),
                        dir);
            }
            return 0;
        }
        if (!run.hasProgress()) {
            throw new DistillException(dir + ": no " + RunDirectory.SUMMARY + " and no "
                    + dir.relativize(run.progressFile()) + ": not a run directory, or one made before checkpoints existed");
        }
        List<String> warnings = new ArrayList<>();
        Progress progress = run.progress(warnings::add);
        RunLock.Holder holder = RunLock.holder(dir);
        boolean running = holder != null && holder.aliveHere();
        boolean elsewhere = holder != null && !running && !holder.host().equals(RunLock.thisHost());
        String state = running ? "running (pid " + holder.pid() + ", since " + holder.since() + ")"
                : elsewhere ? "locked by pid " + holder.pid() + " on " + holder.host() + " (another machine; whether it "
                        + "still runs cannot be told from here)"
                : progress.failure() != null ? "failed: " + progress.failure()
                : "resumable (interrupted)";
        out.println(dir + ": " + state);
        diskFull(dir).ifPresent(out::println);
        warnings.forEach(w -> out.println("  damaged: " + w + " (resume rewrites it)"));
        ExperimentConfig config = null;
        try {
            Path base = Path.of(progress.configFile()).toAbsolutePath().getParent();
            config = ConfigLoader.load(dir.resolve(ReportData.CONFIG), List.of(), base);
        } catch (DistillException e) {
            out.println("  (the plan is unknown: " + e.getMessage() + ")");
        }
        if (config != null) {
            for (Plan.Node node : ExperimentPlan.of(config).nodes()) {
                out.printf(Locale.ROOT, "  %-30s %s%n", node.id(), nodeState(run, config, node, progress));
                // a swept link's points are training units of their own, each with its seeds
                for (String label : dev.distill.runner.pipeline.Sweep.labels(config, node)) {
                    Plan.Node unit = node.variant(node.id() + "@" + label, node.distillation());
                    out.printf(Locale.ROOT, "    %-28s %s%n", "@" + label, nodeState(run, config, unit, progress));
                }
            }
        } else {
            for (Progress.Finished f : progress.finished()) {
                String damage = run.damage(f);
                out.printf(Locale.ROOT, "  %-30s seed %d %s%n", f.id(), f.seed(), damage != null
                        ? "DAMAGED: " + f.file() + " " + damage + " (resume trains it again)"
                        : String.format(Locale.ROOT, "done (test accuracy %.4f)", f.testAccuracy()));
            }
        }
        if (!running && !elsewhere) {
            out.println("resume with: distill resume " + dir);
        }
        return 0;
    }

    /** Below this, a run's next write (a checkpoint, a model) cannot succeed: the disk is what stopped it. */
    static final long FULL_BELOW = 1 << 20;

    /**
     * A line saying that the disk holding the run is full, if it is: a run stopped by a full disk may
     * not have been able to record why.
     */
    static java.util.Optional<String> diskFull(Path dir) {
        try {
            long free = java.nio.file.Files.getFileStore(dir).getUsableSpace();
            return free >= FULL_BELOW ? java.util.Optional.empty() : java.util.Optional.of(String.format(Locale.ROOT,
                    "  the disk holding it is full (%,d KB free): free some space before resuming", free >> 10));
        } catch (java.io.IOException e) {
            return java.util.Optional.empty();
        }
    }

    private static String nodeState(RunDirectory run, ExperimentConfig config, Plan.Node node, Progress progress) {
        if (config.models().get(node.model()) instanceof ModelConfig.Auto auto
                && progress.finished(node.id(), config.seed()) == null) {
            long done = auto.candidates().stream()
                    .filter(c -> progress.finished(c.of().assistantNode(node).id(), config.seed()) != null).count();
            return String.format(Locale.ROOT, "automatic assistant: %d of %d candidate(s) trained, not chosen yet", done,
                    auto.candidates().size());
        }
        if (!(config.models().get(node.model()) instanceof ModelConfig.Declared declared)) {
            return config.models().get(node.model()) instanceof ModelConfig.Auto ? "the chosen candidate: finished"
                    : "loaded from a file (nothing to train)";
        }
        List<Long> seeds = node.perSeed() ? config.seeds() : List.of(config.seed());
        List<String> parts = new ArrayList<>();
        for (long seed : seeds) {
            String prefix = seeds.size() > 1 ? "seed " + seed + " " : "";
            Progress.Finished f = progress.finished(node.id(), seed);
            String damage = f == null ? null : run.damage(f);
            if (damage != null) {
                parts.add(prefix + "DAMAGED: " + f.file() + " " + damage + " (resume trains it again)");
                continue;
            }
            if (f != null) {
                parts.add(f.testAccuracy() == null
                        ? String.format(Locale.ROOT, "%sdone (validation accuracy %.4f)", prefix,
                                f.result().bestValidationAccuracy())
                        : String.format(Locale.ROOT, "%sdone (test accuracy %.4f)", prefix, f.testAccuracy()));
                continue;
            }
            var entry = new CheckpointStore(run.checkpoints(node.id(), seed), 1).newestEntry();
            parts.add(entry.map(e -> String.format(Locale.ROOT, "%scheckpointed at epoch %d of %d%s", prefix,
                    e.epochsDone(), declared.training().epochs(),
                    e.nextExample() == 0 ? "" : String.format(Locale.ROOT, " (+%,d examples)", e.nextExample())))
                    .orElse(prefix + "to do"));
        }
        return String.join(", ", parts);
    }
}
