package dev.distill.runner.pipeline;

import dev.distill.core.modelfile.ModelReader;

import dev.distill.core.chain.Plan;

import dev.distill.core.chain.Role;

import dev.distill.core.DistillException;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.chain.LinkTrainer;
import dev.distill.core.chain.MutualLearning;
import dev.distill.core.chain.Teacher;
import dev.distill.core.chain.TeacherLogitsCache;
import dev.distill.core.io.CheckpointStore;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.report.Json;
import dev.distill.runner.report.MarkdownReport;
import dev.distill.runner.report.Predictions;
import dev.distill.runner.report.ReportData;
import dev.distill.runner.report.ReportFiles;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.RunSummary.Distillation;
import dev.distill.runner.report.RunSummary.LayerEntry;
import dev.distill.runner.report.RunSummary.ModelEntry;
import dev.distill.runner.report.RunSummary.Seeds;
import dev.distill.runner.report.RunSummary.SweepEntry;
import dev.distill.runner.report.RunSummary.SweepPoint;
import dev.distill.runner.report.RunSummary.Training;
import dev.distill.runner.report.SavedModel;
import dev.distill.runner.report.SizeBudget;
import dev.distill.runner.report.KdVerdict;
import dev.distill.runner.report.SummaryTable;
import dev.distill.runner.stages.StageRunner;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * config → models → training (teacher → assistants → students, baselines) → evaluation → report.
 * Each teacher's logits on the training split are computed once and shared by all its students.
 *
 * <p>Resumable: every training run writes checkpoints ({@code checkpoints/<id>-seed<k>/}), and each
 * finished one is recorded in {@link Progress} after its files. Run again on a directory that has a
 * progress file, the pipeline skips what is finished, continues the interrupted training run from its
 * newest good checkpoint, reloads cached teacher logits, and gives the summary an uninterrupted run
 * would have given.
 */
public final class Pipeline {

    private final ExperimentConfig config;
    private final ExperimentData data;
    private final Map<String, Network> pretrained;
    private final RunDirectory run;
    private final PrintStream out;
    private final boolean interactive;

    /** Trained (or loaded) networks that later nodes distil from, by node id. */
    private final Map<String, Network> teachers = new HashMap<>();
    /** ONNX teachers (run by ONNX Runtime), by node id. */
    private final Map<String, dev.distill.onnx.OnnxTeacher> onnxTeachers = new HashMap<>();
    /** Each teacher's logits on the training split, computed once and kept in the run directory. */
    private final TeacherLogitsCache logits;
    private final LinkTrainer links;
    /** What is finished (and each teacher's logits seconds, for the report's timings). */
    private Progress progress;
    /** Where the plan's independent trainings run, a wave at a time; null: here, one after another. */
    private final TrainingRunner runner;
    /**
     * True in a task of a {@link TrainingRunner}: the driver records the training (progress, metrics
     * lines) from the record the task returns, so the task writes neither.
     */
    private final boolean inTask;
    /** The trainings ({@code id#seed}) this session's runner trained: the log says so, not "finished earlier". */
    private final java.util.Set<String> trainedByRunner = new java.util.HashSet<>();
    /**
     * How the nodes an automatic assistant's choice made came to be, by node id, for the console
     * ({@code candidate w32, chosen on its student's validation}).
     */
    private final Map<String, String> chosenAs = new HashMap<>();
    /** Told of each epoch besides the console and the metrics log (a task's fault injection in tests). */
    private final List<TrainingListener> extraListeners;

    /**
     * One training of the plan: a node with one seed, or one point of a swept node with one seed.
     * What a {@link TrainingRunner} ships to a task; the task finds the rest in the run's config.
     *
     * @param point the sweep point's label, or null for the node itself
     */
    public record PlannedTraining(String nodeId, String point, long seed) implements java.io.Serializable {
        /** The id its progress record, checkpoints and metrics go under. */
        public String recordId() {
            return point == null ? nodeId : nodeId + "@" + point;
        }
    }

    /**
     * @param pretrained networks of the config's pretrained models, already loaded and checked
     *                   against the data (see {@link PretrainedModels})
     */
    public Pipeline(ExperimentConfig config, ExperimentData data, Map<String, Network> pretrained,
            RunDirectory run, PrintStream out, boolean interactive) {
        this(config, data, pretrained, run, out, interactive, null, false, List.of());
    }

    /**
     * A pipeline whose independent trainings run on {@code runner} (a cluster), each wave of trainings
     * whose teachers are finished at once; everything else (teacher logits, sweep choice, the summary
     * and report) is done here, as in a local run.
     */
    public Pipeline(ExperimentConfig config, ExperimentData data, Map<String, Network> pretrained,
            RunDirectory run, PrintStream out, boolean interactive, TrainingRunner runner) {
        this(config, data, pretrained, run, out, interactive, runner, false, List.of());
    }

    private Pipeline(ExperimentConfig config, ExperimentData data, Map<String, Network> pretrained, RunDirectory run,
            PrintStream out, boolean interactive, TrainingRunner runner, boolean inTask,
            List<TrainingListener> extraListeners) {
        this.runner = runner;
        this.inTask = inTask;
        this.extraListeners = List.copyOf(extraListeners);
        this.config = config;
        this.data = data;
        this.pretrained = pretrained;
        this.run = run;
        this.out = out;
        this.interactive = interactive;
        this.logits = new TeacherLogitsCache(data.train().features(), this::teacher, new RunLogits());
        this.links = new LinkTrainer(config.data().input(), data.train(), data.validation(), logits);
    }

    /** Runs the plan, or what is left of it if the run directory holds an interrupted run. */
    public RunSummary run() {
        if (run.hasProgress()) {
            progress = withoutDamaged(run.progress(warning -> out.println("warning: " + warning)).withFailure(null));
        } else {
            run.write("config.yaml", config.effectiveYaml());
            run.write(run.root().relativize(run.checkpointedConfig()).toString(), config.effectiveYaml());
            progress = Progress.start(config.file().toString(), Instant.now().toString());
        }
        run.write(progress);
        try {
            return runPlan();
        } catch (RuntimeException e) {
            // status shows it; resume retries from the last checkpoint
            try {
                run.write(progress.withFailure(e.getMessage() == null ? e.toString() : e.getMessage()));
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * The record without the finished training runs whose model file is no longer the one written
     * (truncated, damaged, missing): each is said in one line and trained again, so that a damaged
     * file never stops a resume twice.
     */
    private Progress withoutDamaged(Progress recorded) {
        return recorded.without(f -> {
            String damage = run.damage(f);
            if (damage != null) {
                out.printf(Locale.ROOT, "warning: %s: %s; %s seed %d is trained again%n", run.root().resolve(f.file()),
                        damage, f.id(), f.seed());
            }
            return damage != null;
        });
    }

    private RunSummary runPlan() {
        // the report's confusion matrices need the test labels beside each model's predictions
        run.write(Predictions.file(Predictions.LABELS),
                Predictions.labelsJson(data.test().labels(), config.data().classes()));
        Plan plan = ExperimentPlan.of(config);
        List<ModelEntry> entries = new ArrayList<>();
        List<SweepEntry> sweeps = new ArrayList<>();
        List<RunSummary.AssistantEntry> assistants = new ArrayList<>();
        // a swept link goes on as its chosen point: its settings are the ones later stages use
        List<Plan.Node> trained = new ArrayList<>();
        java.util.Set<String> dispatched = new java.util.HashSet<>();
        for (Plan.Node node : plan.nodes()) {
            if (runner != null && !dispatched.contains(node.id())) {
                runWave(plan, trained, dispatched);
            }
            if (config.models().get(node.model()) instanceof ModelConfig.Auto auto) {
                RunSummary.AssistantEntry choice = chooseAssistant(node, auto, plan);
                assistants.add(choice);
                entries.add(train(node, auto.candidate(choice.chosen()).model(), plan, null));
                trained.add(node);
            } else if (swept(node)) {
                Sweep.Outcome outcome = sweep(node, plan);
                sweeps.add(outcome.entry());
                Plan.Node chosen = node.variant(node.id(), outcome.chosen().node().distillation());
                entries.add(train(chosen, outcome.chosen().model(), plan, outcome.chosen().point().label()));
                trained.add(chosen);
            } else {
                entries.add(train(node, config.models().get(node.model()), plan, null));
                trained.add(node);
            }
        }
        if (config.stages().stream().anyMatch(s -> !(s instanceof dev.distill.runner.config.StageConfig.Export))) {
            entries.addAll(new StageRunner(config, data, run, out, links,
                    label -> new ConsoleProgress(label, out, interactive))
                    .run(trained.stream().filter(n -> n.role() == Role.STUDENT).toList()));
        }
        dev.distill.runner.stages.ExportStage.run(config, data, run, out, entries);
        RunSummary.Dataset dataset = new RunSummary.Dataset(data.name(), config.data().input().toString(),
                config.data().classes(), data.train().size(), data.validation().size(), data.test().size());
        RunSummary summary = new RunSummary(config.name(), progress.configFile(), progress.started(),
                Instant.now().toString(), dataset, config.seeds(), KdVerdict.attach(entries), Provenance.collect(),
                progress.logitsSeconds(), sweeps, assistants);
        String table = SummaryTable.text(summary);
        run.write(MarkdownReport.FILE, MarkdownReport.markdown(summary, config.effectiveYaml()));
        writeHtmlReport(summary);
        // last: its presence marks the run as finished
        run.write(RunDirectory.SUMMARY, Json.pretty(summary));
        out.println();
        out.print(table);
        out.println();
        out.println("run directory: " + run.root());
        return summary;
    }

    /**
     * report.html from the files written so far and the summary in memory. A failure here must not
     * cost the run its summary.json (the models are trained and saved): it is reported, and
     * {@code distill report} can draw the page again once the summary exists.
     */
    private void writeHtmlReport(RunSummary summary) {
        try {
            ReportFiles.writeHtml(ReportData.of(run.root(), summary), SizeBudget.defaultRule());
        } catch (RuntimeException e) {
            out.println("warning: report.html not written (" + e + "); write it with: distill report " + run.root());
        }
    }

    /** Predicts the test set, saves the predictions for the report, and returns the test accuracy. */
    private double testAndSavePredictions(String id, long seed, Network net) {
        int[] predicted = Accuracy.predict(net, data.test().features());
        run.write(Predictions.file(id), Predictions.predictionsJson(id, seed, predicted));
        return Accuracy.of(predicted, data.test().labels());
    }

    private boolean swept(Plan.Node node) {
        return config.sweep() != null && config.models().get(node.model()) instanceof ModelConfig.Declared d
                && Sweep.applies(config.sweep(), node, d)
                && !ExperimentPlan.chosenByAutoAssistant(config, ExperimentPlan.of(config), node);
    }

    /**
     * An automatic assistant ({@link dev.distill.core.chain.AssistantFamily}): every candidate distilled from
     * the teacher once, then the student it teaches distilled from each over the student's seeds, what is not
     * finished yet (units {@code <id>@<label>}, saved under {@code sweep/}, never tested); the candidate whose
     * student has the best mean validation accuracy ({@link dev.distill.core.chain.ValidationChoice}, the sweep's
     * rule) becomes the assistant's node and its students the student's node: tested only then, as a sweep's
     * chosen point is.
     */
    private RunSummary.AssistantEntry chooseAssistant(Plan.Node node, ModelConfig.Auto auto, Plan plan) {
        Plan.Node student = plan.taughtBy(node);
        ModelConfig.Declared studentModel = (ModelConfig.Declared) config.models().get(student.model());
        List<Long> seeds = student.perSeed() ? config.seeds() : List.of(config.seed());
        List<ModelConfig.Auto.Candidate> family = auto.candidates();
        out.printf(Locale.ROOT, "%s: automatic assistant, %d candidate(s) (%s), each teaching %s over %d seed(s), "
                + "chosen on %s's validation accuracy%n", node.id(), family.size(),
                String.join(", ", family.stream().map(c -> c.of().label()).toList()),
                student.id(), seeds.size(), student.id());
        List<Progress.Finished> assistants = new ArrayList<>();
        List<List<Progress.Finished>> students = new ArrayList<>();
        List<double[]> validation = new ArrayList<>();
        for (ModelConfig.Auto.Candidate candidate : family) {
            Plan.Node unit = candidate.of().assistantNode(node);
            assistants.add(trainUnit(unit, candidate.model(), config.seed(), unit.id(), true));
            Plan.Node taught = candidate.of().studentNode(student);
            List<Progress.Finished> perSeed = new ArrayList<>();
            for (long seed : seeds) {
                perSeed.add(trainUnit(taught, studentModel, seed,
                        taught.id() + (seeds.size() > 1 ? " seed " + seed : ""), false));
            }
            students.add(perSeed);
            validation.add(perSeed.stream().mapToDouble(f -> f.result().bestValidationAccuracy()).toArray());
        }
        int chosen = dev.distill.core.chain.ValidationChoice.best(validation);
        String label = family.get(chosen).of().label();
        out.printf(Locale.ROOT, "%s: chose %s (%s validation accuracy %.4f)%n", node.id(), label, student.id(),
                dev.distill.core.chain.ValidationChoice.mean(validation.get(chosen)));
        if (progress.finished(node.id(), config.seed()) == null) {
            promote(node, assistants.get(chosen), true);
        }
        for (int i = 0; i < seeds.size(); i++) {
            if (progress.finished(student.id(), seeds.get(i)) == null) {
                promote(student, students.get(chosen).get(i), i == 0);
            }
        }
        chosenAs.put(node.id(), "candidate " + label + ", chosen on " + student.id() + "'s validation");
        chosenAs.put(student.id(), "taught by candidate " + label + ", chosen on validation");
        List<RunSummary.AssistantCandidate> candidates = new ArrayList<>();
        for (int i = 0; i < family.size(); i++) {
            SummaryStatistics stats = new SummaryStatistics();
            for (double v : validation.get(i)) {
                stats.addValue(v);
            }
            List<Double> perSeed = java.util.Arrays.stream(validation.get(i)).boxed().toList();
            double seconds = assistants.get(i).result().seconds()
                    + students.get(i).stream().mapToDouble(f -> f.result().seconds()).sum();
            candidates.add(new RunSummary.AssistantCandidate(family.get(i).of().label(), family.get(i).model().name(),
                    family.get(i).of().width(), assistants.get(i).params(),
                    assistants.get(i).result().bestValidationAccuracy(),
                    dev.distill.core.chain.ValidationChoice.mean(validation.get(i)),
                    perSeed.size() > 1 ? stats.getStandardDeviation() : null, perSeed, seconds, i == chosen));
        }
        return new RunSummary.AssistantEntry(node.id(), student.id(), label, candidates);
    }

    /** One candidate unit with one seed: read back if finished earlier, else trained, saved under sweep/, recorded. */
    private Progress.Finished trainUnit(Plan.Node unit, ModelConfig.Declared model, long seed, String label,
            boolean teaches) {
        Progress.Finished done = progress.finished(unit.id(), seed);
        if (done != null) {
            out.printf(Locale.ROOT, "  %s: %s: validation accuracy %.4f%n", label, howFinished(done),
                    done.result().bestValidationAccuracy());
            return done;
        }
        done = trainOne(unit, model, seed, label, unit.id() + "-seed" + seed + ".zip", false, teaches, true);
        record(done);
        return done;
    }

    /**
     * Trains every point of a swept link (what is not finished yet), chooses on validation, and makes
     * the chosen point's models the link's: tested, saved as {@code models/<id>.zip} and recorded as
     * finished, so the link's entry is built as for any other link.
     */
    private Sweep.Outcome sweep(Plan.Node node, Plan plan) {
        List<Sweep.Unit> units = Sweep.units(config.sweep(), node, (ModelConfig.Declared) config.models().get(node.model()));
        List<Long> seeds = node.perSeed() ? config.seeds() : List.of(config.seed());
        out.printf(Locale.ROOT, "%s: sweep of %d point(s) x %d seed(s), chosen on validation accuracy%n", node.id(),
                units.size(), seeds.size());
        Sweep.Outcome outcome = Sweep.run(node, units, seeds, (unit, seed) -> {
            String label = unit.node().id() + (seeds.size() > 1 ? " seed " + seed : "");
            Progress.Finished done = progress.finished(unit.node().id(), seed);
            if (done != null) {
                out.printf(Locale.ROOT, "  %s: %s: validation accuracy %.4f%n", label, howFinished(done),
                        done.result().bestValidationAccuracy());
                return done;
            }
            done = train(new PlannedTraining(node.id(), unit.point().label(), seed), plan);
            record(done);
            return done;
        });
        out.printf(Locale.ROOT, "%s: chose %s (validation accuracy %.4f)%n", node.id(), outcome.chosen().point().label(),
                outcome.entry().points().stream().filter(SweepPoint::chosen).findFirst().orElseThrow()
                        .validationAccuracyMean());
        for (int i = 0; i < seeds.size(); i++) {
            long seed = seeds.get(i);
            if (progress.finished(node.id(), seed) == null) {
                promote(node, progress.finished(outcome.chosen().node().id(), seed), i == 0);
            }
        }
        return outcome;
    }

    /** The chosen point's model of one seed becomes the link's: tested (only now), copied to models/, logged. */
    private void promote(Plan.Node node, Progress.Finished point, boolean shipped) {
        long seed = point.seed();
        Path source = run.root().resolve(point.file());
        Network net = ModelReader.network(source);
        double accuracy = shipped ? testAndSavePredictions(node.id(), seed, net) : Accuracy.of(net, data.test());
        String fileName = shipped ? node.id() + ".zip" : node.id() + "-seed" + seed + ".zip";
        ModelFiles.writeAtomically(run.model(fileName),
                tmp -> Files.copy(source, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
        // the report's training curves are drawn per model id
        new MetricsLog(run, node.id(), seed).replace(point.result().history());
        progress = progress.with(new Progress.Finished(node.id(), seed, "models/" + fileName, accuracy, point.params(),
                point.result(), run.digest("models/" + fileName)));
        run.write(progress);
    }

    /** @param sweptPoint the label of the sweep point chosen for this link, or null if it was not swept */
    private ModelEntry train(Plan.Node node, ModelConfig model, Plan plan, String sweptPoint) {
        if (model instanceof ModelConfig.Pretrained p) {
            return p.onnx() != null ? loadedOnnx(node, p) : loaded(node, p);
        }
        ModelConfig.Declared declared = (ModelConfig.Declared) model;
        List<Long> seeds = node.perSeed() ? config.seeds() : List.of(config.seed());
        out.printf(Locale.ROOT, "%s (%s%s): %,d params, %,d multiply-adds/example, %d epoch(s), %d seed(s)%n",
                node.id(), node.role().label(), node.distilled() ? ", distilled from " + node.parentId() : "",
                declared.cost().params(), declared.cost().multiplyAdds(), declared.training().epochs(), seeds.size());
        List<Double> accuracies = new ArrayList<>();
        ModelEntry first = null;
        for (long seed : seeds) {
            boolean shipped = first == null;
            String fileName = shipped ? node.id() + ".zip" : node.id() + "-seed" + seed + ".zip";
            String label = seeds.size() > 1 ? node.id() + " seed " + seed : node.id();
            Progress.Finished done = progress.finished(node.id(), seed);
            if (done != null) {
                String how = sweptPoint != null ? "sweep point " + sweptPoint + ", chosen on validation"
                        : chosenAs.containsKey(node.id()) ? chosenAs.get(node.id())
                        : node.mutual() ? "trained with its mutual group" : howFinished(done);
                out.printf(Locale.ROOT, "  %s: %s: test accuracy %.4f (%s)%n", label, how, done.testAccuracy(),
                        done.file());
            } else {
                done = node.mutual() ? trainMutual(plan.group(node), node, seed, shipped)
                        : train(new PlannedTraining(node.id(), null, seed), plan);
                record(done);
            }
            accuracies.add(done.testAccuracy());
            if (shipped) {
                Path file = run.model(fileName);
                first = entry(node, done.testAccuracy(), done.params(), size(file), declared.cost().multiplyAdds(),
                        done.result(), fileName, SavedModel.read(file).nonzero(), layers(declared));
            }
        }
        if (seeds.size() > 1) {
            SummaryStatistics stats = new SummaryStatistics();
            accuracies.forEach(stats::addValue);
            first = first.withSeeds(new Seeds(stats.getMean(), stats.getStandardDeviation(), accuracies));
        }
        return first;
    }

    private String howFinished(Progress.Finished done) {
        return trainedByRunner.contains(done.id() + "#" + done.seed()) ? "trained on " + runner : "finished earlier";
    }

    /** A finished training in the progress record (after its files), its checkpoints no longer needed. */
    private void record(Progress.Finished done) {
        progress = progress.with(done);
        run.write(progress);
        deleteTree(run.checkpoints(done.id(), done.seed()));
    }

    /**
     * The trainings of the plan's nodes that are ready (their teacher is finished: in {@code trained},
     * or they have none) and not finished yet, run at once on the runner, each recorded as it would be
     * had it been trained here. Teachers' logits are computed first, here, and reach the tasks through
     * the run directory.
     */
    private void runWave(Plan plan, List<Plan.Node> trained, java.util.Set<String> dispatched) {
        java.util.Set<String> finishedNodes = new java.util.HashSet<>();
        trained.forEach(n -> finishedNodes.add(n.id()));
        List<PlannedTraining> wave = new ArrayList<>();
        java.util.Set<String> parents = new java.util.LinkedHashSet<>();
        for (Plan.Node node : plan.nodes()) {
            if (dispatched.contains(node.id()) || finishedNodes.contains(node.id())
                    || (node.parentId() != null && !finishedNodes.contains(node.parentId()))) {
                continue;
            }
            dispatched.add(node.id());
            // mutual groups train together and an ensemble's targets are several teachers': both stay local
            if (node.mutual() || node.teachers().kind() == dev.distill.core.chain.Chain.Kind.ENSEMBLE
                    || !(config.models().get(node.model()) instanceof ModelConfig.Declared declared)) {
                continue;
            }
            List<Long> seeds = node.perSeed() ? config.seeds() : List.of(config.seed());
            List<String> points = swept(node) ? Sweep.units(config.sweep(), node, declared).stream()
                    .map(u -> u.point().label()).toList() : java.util.Collections.singletonList(null);
            for (String point : points) {
                for (long seed : seeds) {
                    PlannedTraining t = new PlannedTraining(node.id(), point, seed);
                    if (progress.finished(t.recordId(), seed) == null) {
                        wave.add(t);
                        if (node.distilled()) {
                            parents.add(node.parentId());
                        }
                    }
                }
            }
        }
        if (wave.isEmpty()) {
            return;
        }
        parents.forEach(logits::logits);
        out.printf(Locale.ROOT, "wave of %d training(s) on %s%n", wave.size(), runner);
        List<Progress.Finished> results = runner.train(run.root(), wave);
        for (Progress.Finished done : results) {
            new MetricsLog(run, done.id(), done.seed()).replace(done.result().history());
            record(done);
            trainedByRunner.add(done.id() + "#" + done.seed());
        }
    }

    /**
     * Trains one training of the plan and returns its record: what the local loop and a runner's task
     * both call, so a training is the same wherever it runs.
     */
    private Progress.Finished train(PlannedTraining t, Plan plan) {
        Plan.Node node = plan.nodes().stream().filter(n -> n.id().equals(t.nodeId())).findFirst()
                .orElseThrow(() -> new DistillException("no node " + t.nodeId() + " in the plan of " + config.name()));
        ModelConfig.Declared declared = (ModelConfig.Declared) config.models().get(node.model());
        List<Long> seeds = node.perSeed() ? config.seeds() : List.of(config.seed());
        if (t.point() != null) {
            Sweep.Unit unit = Sweep.units(config.sweep(), node, declared).stream()
                    .filter(u -> u.point().label().equals(t.point())).findFirst()
                    .orElseThrow(() -> new DistillException("no sweep point " + t.point() + " of " + node.id()));
            String label = unit.node().id() + (seeds.size() > 1 ? " seed " + t.seed() : "");
            return trainOne(unit.node(), unit.model(), t.seed(), label, unit.node().id() + "-seed" + t.seed() + ".zip",
                    false, false, true);
        }
        boolean shipped = seeds.get(0) == t.seed();
        String fileName = shipped ? node.id() + ".zip" : node.id() + "-seed" + t.seed() + ".zip";
        String label = seeds.size() > 1 ? node.id() + " seed " + t.seed() : node.id();
        return trainOne(node, declared, t.seed(), label, fileName, shipped,
                shipped && !inTask && isTeacherOfLaterNode(node, plan), false);
    }

    /** Data already read in this JVM (a cluster's executor runs many tasks of one run), by run directory. */
    private static final Map<String, ExperimentData> TASK_DATA = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Trains one training of the run in {@code runDir} (started by a driver that has written its config
     * and progress there) in a runner's task, and returns its record for the driver to write. Resumes
     * from the training's newest good checkpoint, as a local run does: a retried task continues.
     *
     * @param driverDir the driver's working directory: the recorded config path (and so the config's
     *                  relative data paths) may be relative to it, and a task's own working directory
     *                  is not the driver's on a cluster
     * @param listeners told of each epoch too
     */
    public static Progress.Finished trainInTask(Path runDir, Path driverDir, PlannedTraining training, PrintStream out,
            List<TrainingListener> listeners) {
        RunDirectory run = RunDirectory.open(runDir);
        Progress recorded = run.progress();
        ExperimentConfig config = taskConfig(run, recorded, driverDir);
        Pipeline task = new Pipeline(config, taskData(runDir, config), Map.of(), run, out, false, null, true, listeners);
        task.progress = recorded;
        return task.train(training, ExperimentPlan.of(config));
    }

    /**
     * In a runner's task: the logits of a finished teacher (its model file {@code teacherFile}, relative
     * to {@code runDir}) on rows {@code [from, to)} of the run's training inputs, row after row; the
     * driver puts the parts together ({@link TrainingRunner#teacherLogits}).
     */
    public static float[] teacherLogitsInTask(Path runDir, Path driverDir, String teacherFile, long from, long to) {
        RunDirectory run = RunDirectory.open(runDir);
        ExperimentConfig config = taskConfig(run, run.progress(), driverDir);
        INDArray rows = taskData(runDir, config).train().features()
                .get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to), org.nd4j.linalg.indexing.NDArrayIndex.all())
                .dup(); // a copy: TeacherLogits' batches of this view came out empty here (ND4J M2.1: "Invalid input: length 0")
        Network teacher = ModelReader.network(runDir.resolve(teacherFile));
        return dev.distill.core.train.TeacherLogits.compute(teacher, rows).data().asFloat();
    }

    /** The run's config as its checkpoints were made with it, its relative paths read from the driver's directory. */
    private static ExperimentConfig taskConfig(RunDirectory run, Progress recorded, Path driverDir) {
        Path base = driverDir.resolve(recorded.configFile()).toAbsolutePath().normalize().getParent();
        return dev.distill.runner.config.ConfigLoader.load(run.checkpointedConfig(), List.of(), base);
    }

    private static ExperimentData taskData(Path runDir, ExperimentConfig config) {
        return TASK_DATA.computeIfAbsent(runDir.toAbsolutePath().normalize().toString(),
                k -> ExperimentData.load(config.data(), config.seed()));
    }

    /**
     * Trains one model with one seed (from its newest good checkpoint, if it has one), saves it and,
     * for the shipped (first) seed, its test predictions. A sweep point ({@code sweepPoint}) is saved
     * under {@code sweep/} and not tested: its test accuracy stays null.
     */
    private Progress.Finished trainOne(Plan.Node node, ModelConfig.Declared declared, long seed, String label,
            String fileName, boolean shipped, boolean keepAsTeacher, boolean sweepPoint) {
        Network net = links.build(node, declared.network(), declared.training(), seed);
        CheckpointStore store = new CheckpointStore(run.checkpoints(node.id(), seed), config.checkpoints().keep());
        TrainingState resumed = null;
        Optional<CheckpointStore.Restored> restored = store.newestGood(line -> out.println("warning: " + line));
        if (restored.isPresent()) {
            resumed = restoreInto(restored.get(), net);
            out.printf(Locale.ROOT, "  %s: resuming from %s (%d of %d epochs done%s)%n", label,
                    run.root().relativize(restored.get().file()), resumed.completedEpochs(),
                    declared.training().epochs(), resumed.atEpochBoundary() ? ""
                            : String.format(Locale.ROOT, ", %,d examples into the next", resumed.nextExample()));
        }
        List<TrainingListener> listeners = new ArrayList<>(List.of(new ConsoleProgress(label, out, interactive)));
        if (!inTask) {
            MetricsLog log = new MetricsLog(run, node.id(), seed);
            log.replace(resumed == null ? List.of() : resumed.history());
            listeners.add(log);
        }
        listeners.addAll(extraListeners);
        Trainer trainer = new Trainer(declared.training(), listeners).withCheckpoints(config.checkpoints(), store);
        if (declared.training().augment().active()) {
            out.printf(Locale.ROOT, "  %s: augmenting (%s)%s%n", label, declared.training().augment(),
                    !node.distilled() ? "" : ", teacher " + node.parentId() + "'s logits per batch by its "
                            + logits.live(node).how());
        }
        if (resumed == null && node.distilled() && node.distillation().hint() != null) {
            dev.distill.core.chain.Hint hint = node.distillation().hint();
            out.printf(Locale.ROOT, "  %s: %s%n", label, hint.describe() + (hint.stage() == dev.distill.core.chain.Hint
                    .Stage.JOINT ? ", added to the link's loss at every step" : " first (FitNets' first stage)"));
        }
        TrainingResult result = links.fit(node, declared.network(), net, trainer, seed, resumed);
        // the first seed's model is the one shipped in <id>.zip: its predictions are kept for the report
        Double accuracy = sweepPoint ? null
                : shipped ? testAndSavePredictions(node.id(), seed, net) : Accuracy.of(net, data.test());
        String relative = (sweepPoint ? Sweep.DIR : "models") + "/" + fileName;
        ModelFiles.saveForShipping(net, run.root().resolve(relative));
        out.printf(Locale.ROOT, "  %s: %s (best epoch %d, val %.4f), %.1f s%n", label,
                accuracy == null ? "not tested (sweep points and candidates are compared on validation)"
                        : String.format(Locale.ROOT, "test accuracy %.4f", accuracy),
                result.bestEpoch(), result.bestValidationAccuracy(), result.seconds());
        if (keepAsTeacher) {
            teachers.put(node.id(), net);
        }
        return new Progress.Finished(node.id(), seed, relative, accuracy, net.numParams(), result,
                run.digest(relative));
    }

    /**
     * Trains a mutual group with one seed ({@link MutualLearning}; each student starts from its own seed), saves
     * and tests every student, records the peers as finished and returns {@code node}'s record. Checkpointed
     * at epoch ends: an interrupted group continues from the last epoch end every student's checkpoint holds.
     */
    private Progress.Finished trainMutual(List<Plan.Node> group, Plan.Node node, long seed, boolean shipped) {
        List<Network> nets = new ArrayList<>();
        List<CheckpointStore> stores = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            Plan.Node peer = group.get(i);
            ModelConfig.Declared declared = (ModelConfig.Declared) config.models().get(peer.model());
            nets.add(links.build(peer, declared.network(), declared.training(), MutualLearning.seedOf(seed, i)));
            stores.add(new CheckpointStore(run.checkpoints(peer.id(), seed), config.checkpoints().keep()));
        }
        String members = String.join(", ", group.stream().map(Plan.Node::id).toList());
        List<TrainingState> resumed = resumedGroup(stores, nets);
        TrainingSpec spec = ((ModelConfig.Declared) config.models().get(group.get(0).model())).training();
        List<List<TrainingListener>> listeners = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            MetricsLog log = new MetricsLog(run, group.get(i).id(), seed);
            log.replace(resumed == null ? List.of() : resumed.get(i).history());
            listeners.add(List.of(new ConsoleProgress(group.get(i).id() + " seed " + seed, out, interactive), log));
        }
        if (resumed == null) {
            out.printf(Locale.ROOT, "  mutual learning: %s trained together, seed %d%n", members, seed);
        } else {
            out.printf(Locale.ROOT, "  mutual learning: %s trained together, seed %d, resuming from their checkpoints "
                    + "(%d of %d epochs done)%n", members, seed, resumed.get(0).completedEpochs(), spec.epochs());
        }
        List<TrainingResult> results = MutualLearning.fit(nets, spec, node.distillation().temperature(), listeners,
                data.train(), data.validation(), seed,
                new MutualLearning.Checkpoints(config.checkpoints(), stores, resumed));
        Progress.Finished mine = null;
        for (int i = 0; i < group.size(); i++) {
            Plan.Node peer = group.get(i);
            Network net = nets.get(i);
            String relative = "models/" + (shipped ? peer.id() + ".zip" : peer.id() + "-seed" + seed + ".zip");
            double accuracy = shipped ? testAndSavePredictions(peer.id(), seed, net) : Accuracy.of(net, data.test());
            ModelFiles.saveForShipping(net, run.root().resolve(relative));
            out.printf(Locale.ROOT, "  %s seed %d: test accuracy %.4f (best epoch %d, val %.4f)%n", peer.id(), seed,
                    accuracy, results.get(i).bestEpoch(), results.get(i).bestValidationAccuracy());
            Progress.Finished done = new Progress.Finished(peer.id(), seed, relative, accuracy, net.numParams(),
                    results.get(i), run.digest(relative));
            if (peer.id().equals(node.id())) {
                mine = done;
            } else {
                record(done);
            }
        }
        return mine;
    }

    /**
     * Puts a checkpoint into {@code net} (built from the same specification) and returns where its training
     * stood; a checkpoint of another model or made on other data is one line.
     */
    private TrainingState restoreInto(CheckpointStore.Restored restored, Network net) {
        try {
            restored.copyInto(net);
        } catch (IllegalArgumentException e) {
            throw new DistillException(e.getMessage(), e);
        }
        TrainingState state = restored.state();
        if (state.examples() != data.train().size()) {
            throw new DistillException(restored.file() + ": made on " + state.examples()
                    + " training examples, but the data now has " + data.train().size() + "; the data changed "
                    + "since the run started: start a new run");
        }
        return state;
    }

    /**
     * Where an interrupted mutual group stands: the newest epoch end at which every student has an intact
     * checkpoint (their checkpoints are written one after another, so the last one may be missing), each
     * network restored from it; null if there is none (the group starts over, saying so if it had any).
     */
    private List<TrainingState> resumedGroup(List<CheckpointStore> stores, List<Network> nets) {
        java.util.Set<Integer> common = null;
        for (CheckpointStore store : stores) {
            java.util.Set<Integer> ends = new java.util.HashSet<>();
            store.entries().stream().filter(e -> e.nextExample() == 0).forEach(e -> ends.add(e.epochsDone()));
            if (common == null) {
                common = ends;
            } else {
                common.retainAll(ends);
            }
        }
        List<Integer> epochs = new ArrayList<>(common);
        epochs.sort(java.util.Comparator.reverseOrder());
        for (int epoch : epochs) {
            List<CheckpointStore.Restored> restored = new ArrayList<>();
            for (CheckpointStore store : stores) {
                Optional<CheckpointStore.Restored> r = store.goodAtEpochEnd(epoch, line -> out.println("warning: " + line));
                if (r.isEmpty()) {
                    break;
                }
                restored.add(r.get());
            }
            if (restored.size() < stores.size()) {
                continue;
            }
            List<TrainingState> states = new ArrayList<>();
            for (int i = 0; i < stores.size(); i++) {
                states.add(restoreInto(restored.get(i), nets.get(i)));
            }
            return states;
        }
        if (stores.stream().anyMatch(s -> !s.entries().isEmpty())) {
            out.println("warning: the mutual group's checkpoints share no intact epoch end; the group starts over");
        }
        return null;
    }

    /**
     * A finished teacher: an ONNX model in ONNX Runtime, or a network still in memory or read back
     * from its shipped file after a resume.
     */
    private Teacher teacher(String id) {
        if (onnxTeachers.containsKey(id)) {
            return Teacher.of("ONNX Runtime", onnxTeachers.get(id)::logits);
        }
        Teacher here = Teacher.of(teachers.computeIfAbsent(id, k -> ModelReader.network(teacherFile(k))));
        if (runner == null || inTask) {
            return here;
        }
        // with a runner, the logits on the whole training set (the cached ones) are computed over its parts there
        String file = run.root().relativize(teacherFile(id)).toString().replace(java.io.File.separatorChar, '/');
        return new Teacher() {
            @Override
            public INDArray logits(INDArray features) {
                return features == data.train().features() ? runner.teacherLogits(run.root(), file, features.rows())
                        : here.logits(features);
            }

            @Override
            public dev.distill.core.train.TeacherLogits.Live live() {
                return here.live();
            }

            @Override
            public INDArray features(int layer, INDArray inputs) {
                return here.features(layer, inputs);
            }
        };
    }

    /** A teacher's file: {@code models/<id>.zip}, or, for a candidate unit ({@code <id>@<label>}), the one it was saved in. */
    private Path teacherFile(String id) {
        Progress.Finished unit = id.contains("@") ? progress.finished(id, config.seed()) : null;
        return unit != null ? run.root().resolve(unit.file()) : run.model(id + ".zip");
    }

    private ModelEntry loaded(Plan.Node node, ModelConfig.Pretrained p) {
        Network net = pretrained.get(node.model());
        double accuracy = testAndSavePredictions(node.id(), config.seed(), net);
        String fileName = node.id() + ".zip";
        Path file = run.model(fileName);
        ModelFiles.saveForShipping(net, file);
        out.printf(Locale.ROOT, "%s (teacher, loaded from %s, frozen): test accuracy %.4f%n", node.id(), p.file(),
                accuracy);
        teachers.put(node.id(), net);
        // multiply-adds are counted from layer specs, which a loaded file does not have
        return ModelEntry.of(node.id(), node.model(), node.role().label(), accuracy, net.numParams(), size(file), null,
                "models/" + fileName, SavedModel.read(file).nonzero(), null);
    }

    /**
     * An ONNX teacher: tested through ONNX Runtime like any model, its file copied to
     * {@code models/<id>.onnx} so the run directory holds every model it used; params and non-zero
     * params are counted from the file's initializers.
     */
    private ModelEntry loadedOnnx(Plan.Node node, ModelConfig.Pretrained p) {
        dev.distill.onnx.OnnxTeacher teacher = onnxTeachers.computeIfAbsent(node.id(),
                id -> PretrainedModels.openOnnx(p, config, data));
        int[] predicted = teacher.logits(data.test().features()).argMax(1).toIntVector();
        run.write(Predictions.file(node.id()), Predictions.predictionsJson(node.id(), config.seed(), predicted));
        double accuracy = Accuracy.of(predicted, data.test().labels());
        String fileName = node.id() + ".onnx";
        Path file = run.model(fileName);
        ModelFiles.writeAtomically(file, tmp -> Files.copy(p.file(), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
        out.printf(Locale.ROOT, "%s (teacher, ONNX %s run by ONNX Runtime, frozen): test accuracy %.4f%n", node.id(),
                p.file(), accuracy);
        dev.distill.onnx.OnnxWeights weights = teacher.weights();
        return ModelEntry.of(node.id(), node.model(), node.role().label(), accuracy, weights.params(), size(file), null,
                "models/" + fileName, weights.nonzero(), null);
    }

    /**
     * The logits of finished teachers, kept in the run directory: written atomically before the
     * progress file lists them, so a listed file is complete and holds the floats computing again gives.
     */
    private final class RunLogits implements TeacherLogitsCache.Store {
        @Override
        public INDArray read(String id) {
            Path file = run.logits(id);
            if (!progress.logitsSeconds().containsKey(id) || !Files.isRegularFile(file)) {
                return null;
            }
            try {
                // checked first: ND4J allocates whatever the file declares
                dev.distill.core.io.ModelFileCheck.nd4jArray(file, (long) data.train().size() * config.data().classes());
                INDArray cached = Nd4j.readBinary(file.toFile());
                out.printf(Locale.ROOT, "  logits of %s read from %s%n", id, run.root().relativize(file));
                return cached;
            } catch (IOException | RuntimeException e) {
                out.println("warning: " + file + ": unreadable (" + e.getMessage() + "); computing the logits again");
                return null;
            }
        }

        @Override
        public void write(String id, INDArray computed, double seconds) {
            Path file = run.logits(id);
            ModelFiles.writeAtomically(file, tmp -> Nd4j.saveBinary(computed, tmp.toFile()));
            progress = progress.withLogits(id, seconds);
            run.write(progress);
            out.printf(Locale.ROOT, "  logits of %s on %,d training examples cached in %.1f s (%s)%n", id,
                    computed.rows(), seconds, run.root().relativize(file));
        }
    }

    private static boolean isTeacherOfLaterNode(Plan.Node node, Plan plan) {
        return plan.nodes().stream().anyMatch(n -> n.teachers().ids().contains(node.id()));
    }

    private static ModelEntry entry(Plan.Node node, double accuracy, long params, long fileBytes, long macs,
            TrainingResult result, String fileName, long nonzero, List<LayerEntry> layers) {
        return ModelEntry.of(node.id(), node.model(), node.role().label(), accuracy, params, fileBytes, macs,
                "models/" + fileName, nonzero, layers)
                .withDistillation(node.distilled() ? Distillation.of(node.parentId(), node.distillation())
                        : Distillation.NONE)
                .withTraining(Training.of(result));
    }

    private static List<LayerEntry> layers(ModelConfig.Declared declared) {
        return declared.cost().layers().stream()
                .map(l -> new LayerEntry(l.index(), l.type(), l.outputShape(), l.params(), l.multiplyAdds())).toList();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot delete finished checkpoints: " + e.getMessage(), e);
        }
    }

    /** Appends each epoch's figures to {@code metrics.jsonl}. */
    private record MetricsLog(RunDirectory run, String id, long seed) implements TrainingListener {

        /**
         * Replaces this training run's lines with those of {@code history} (a resumed run logs the
         * epochs after its checkpoint again; the ones before may not all have been logged).
         */
        void replace(List<EpochMetrics> history) {
            String prefix = Json.line(key());
            String mine = prefix.substring(0, prefix.length() - 1) + ",";
            run.rewriteLines(RunDirectory.METRICS, l -> l.startsWith(mine));
            double best = Double.NEGATIVE_INFINITY;
            for (EpochMetrics m : history) {
                boolean isBest = Double.isNaN(m.validationAccuracy()) || m.validationAccuracy() > best;
                best = isBest ? m.validationAccuracy() : best;
                epochDone(m, isBest);
            }
        }

        private Map<String, Object> key() {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("model", id);
            line.put("seed", seed);
            return line;
        }

        @Override
        public void epochDone(EpochMetrics m, boolean best) {
            Map<String, Object> line = key();
            line.put("epoch", m.epoch());
            line.put("train_loss", m.trainLoss());
            line.put("val_accuracy", m.validationAccuracy());
            line.put("seconds", m.seconds());
            line.put("samples_per_s", m.samplesPerSecond());
            line.put("best", best);
            run.appendLine(RunDirectory.METRICS, Json.line(line));
        }
    }
}
