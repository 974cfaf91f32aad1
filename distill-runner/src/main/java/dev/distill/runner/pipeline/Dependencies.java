package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import dev.distill.core.chain.Plan;
import dev.distill.runner.config.DependencyRun;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The runs of other configs that a config's {@code from:} models come from: where each stands (a
 * finished run of that config whose model file is still the one it wrote, an unfinished one, or none
 * yet), and making the ones that are missing (a run of the other config, in its own run directory)
 * or unfinished (continued as {@code distill resume} would) before the config itself runs.
 */
public final class Dependencies {

    /** Where a dependency run stands. */
    public enum State {
        /** Finished, its config the one the model names, its model file the one it wrote: used as it is. */
        FINISHED,
        /** Started and interrupted: continued first. */
        UNFINISHED,
        /** Not there: made first. */
        MISSING
    }

    /** One {@code from:} model of a config and where its run stands. */
    public record Status(String modelName, DependencyRun run, State state) {

        /** "trained by configs/x.yaml into runs/x first (7 training runs)", and the like, for validate. */
        public String describe() {
            String source = run.config().file().getFileName() + "'s " + run.model();
            return switch (state) {
                case FINISHED -> source + ", from the finished run " + run.runDirectory();
                case UNFINISHED -> source + ": distill run continues the unfinished run " + run.runDirectory() + " first";
                case MISSING -> String.format(Locale.ROOT, "%s: distill run trains %s into %s first (%,d training run(s))",
                        source, run.config().file().getFileName(), run.runDirectory(),
                        ExperimentPlan.trainings(ExperimentPlan.of(run.config()), run.config()));
            };
        }
    }

    private Dependencies() {
    }

    /**
     * Where each {@code from:} model of {@code config} stands, after checking each: the model is one the
     * other config trains, and a run directory already there is a run of that config (not of an edited
     * version) whose model file is the one it wrote. The other configs' own dependencies are checked too.
     */
    public static List<Status> check(ExperimentConfig config) {
        List<Status> all = new ArrayList<>();
        for (ModelConfig model : config.models().values()) {
            if (model instanceof ModelConfig.Pretrained p && p.from() != null) {
                check(p.from().config());
                all.add(new Status(p.name(), p.from(), state(p.from())));
            }
        }
        return all;
    }

    /**
     * Makes every dependency run of {@code config} that is missing or unfinished (theirs first), so that
     * each {@code from:} model's file is there; says on {@code out} which runs are made and which reused.
     */
    public static void make(ExperimentConfig config, PrintStream out, boolean interactive) {
        check(config);
        for (ModelConfig model : config.models().values()) {
            if (!(model instanceof ModelConfig.Pretrained p) || p.from() == null) {
                continue;
            }
            DependencyRun from = p.from();
            // asked again for each model: two models of one run make it once
            State state = state(from);
            if (state == State.FINISHED) {
                out.printf("%s: %s of the finished run %s%n", p.name(), from.model(), from.runDirectory());
                continue;
            }
            ExperimentConfig other = from.config();
            make(other, out, interactive);
            ExperimentData data = ExperimentData.load(other.data(), other.seed());
            var pretrained = PretrainedModels.load(other, data);
            RunDirectory run = state == State.MISSING ? RunDirectory.create(other.name(), from.runDirectory())
                    : RunDirectory.open(from.runDirectory());
            try (RunLock lock = RunLock.acquire(run.root(), out)) {
                out.printf("%s: %s %s first, for its model %s -> %s%n", p.name(),
                        state == State.MISSING ? "running" : "continuing", other.file().getFileName(), from.model(),
                        run.root());
                new Pipeline(other, data, pretrained, run, out, interactive).run();
            }
            if (state(from) != State.FINISHED) {
                throw from.error(from.runDirectory() + ": the run of " + other.file() + " did not finish");
            }
        }
    }

    private static State state(DependencyRun from) {
        ExperimentConfig other = from.config();
        Plan.Node node = ExperimentPlan.of(other).nodes().stream().filter(n -> n.id().equals(from.model())).findFirst()
                .orElse(null);
        if (node == null || !(other.models().get(node.model()) instanceof ModelConfig.Declared)) {
            List<String> trained = ExperimentPlan.of(other).nodes().stream()
                    .filter(n -> other.models().get(n.model()) instanceof ModelConfig.Declared).map(Plan.Node::id).toList();
            throw from.error("'" + from.model() + "' is not a model that " + other.file().getFileName() + " trains; "
                    + "it trains: " + String.join(", ", trained));
        }
        Path dir = from.runDirectory();
        if (!Files.isDirectory(dir) || empty(dir)) {
            return State.MISSING;
        }
        RunDirectory run = RunDirectory.open(dir);
        if (!run.hasProgress()) {
            throw from.error(dir + ": is not a run of " + other.file() + " (it has no " + RunDirectory.CHECKPOINTS + "/"
                    + Progress.FILE + "); move it away, or give run: another directory");
        }
        Path configCopy = Files.isRegularFile(run.checkpointedConfig()) ? run.checkpointedConfig()
                : dir.resolve("config.yaml");
        List<String> changed = ConfigDiff.resultChanging(read(configCopy), other.effectiveYaml());
        if (!changed.isEmpty()) {
            throw from.error(dir + ": is a run of another version of " + other.file() + " (" + String.join(", ", changed)
                    + " differ); move it away to train the config as it is now, or give run: another directory");
        }
        if (!run.finished()) {
            return State.UNFINISHED;
        }
        String file = "models/" + from.model() + ".zip";
        Progress.Finished finished = run.progress().finished().stream().filter(f -> f.file().equals(file))
                .findFirst().orElse(null);
        if (finished == null) {
            throw from.error(dir + ": the finished run records no " + file);
        }
        String problem = finished.digest() == null ? null
                : finished.digest().check(from.modelFile(), "the run's " + Progress.FILE);
        if (problem != null) {
            throw from.error(from.modelFile() + ": " + problem + "; move " + dir + " away to train it again");
        }
        return State.FINISHED;
    }

    private static boolean empty(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            throw new DistillException(dir + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
