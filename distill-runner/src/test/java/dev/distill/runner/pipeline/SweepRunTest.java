package dev.distill.runner.pipeline;

import dev.distill.core.chain.Plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.RunSummary.SweepEntry;
import dev.distill.runner.report.RunSummary.SweepPoint;
import dev.distill.runner.testing.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sweeps through the real pipeline on digits: the points are chosen on validation and never tested,
 * the test split is not read until the choice is made, the chosen point's model is the link's, and
 * an interrupted sweep resumes without training its finished points again.
 */
class SweepRunTest {

    @TempDir
    Path dir;

    static final String CONFIG = """
            name: sweep-test
            seed: 42
            data: {dataset: digits, path: '%s', batch_size: 32}
            models:
              teacher:
                layers: [{type: dense, units: 32}, {type: output}]
                training: {epochs: %d}
              student:
                layers: [{type: dense, units: 8}, {type: output}]
                training: {epochs: 2}
            chains:
              - [teacher, student]
            sweep:
              models: [%s]
              grid:
                temperature: [1, 4]
                epochs: [1, 3]
            seeds: [0, 1]
            """;

    ExperimentConfig config(int teacherEpochs, String swept) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, CONFIG.formatted(CliRun.repoFile("datasets/digits.csv.gz"), teacherEpochs, swept));
        return ConfigLoader.load(file);
    }

    record Ran(RunSummary summary, String console) {
    }

    static Ran run(ExperimentConfig config, ExperimentData data, RunDirectory run) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try {
            RunSummary summary = new Pipeline(config, data, Map.of(), run, out, false).run();
            return new Ran(summary, bytes.toString(StandardCharsets.UTF_8));
        } finally {
            out.flush();
        }
    }

    @Test
    void theChoiceIsTheBestMeanValidationAccuracyTheEarlierOnATie() {
        assertEquals(1, Sweep.select(List.of(new double[] {0.90, 0.92}, new double[] {0.95, 0.93},
                new double[] {0.99, 0.80})));
        assertEquals(0, Sweep.select(List.of(new double[] {0.9, 0.8}, new double[] {0.8, 0.9})));
    }

    @Test
    void aBaselineIsSweptOverTheTrainingAxesOnlyOncePerSetting() throws IOException {
        ExperimentConfig c = config(2, "student");
        Plan plan = ExperimentPlan.of(c);
        Plan.Node kd = plan.nodes().get(1);
        Plan.Node baseline = plan.nodes().get(2);
        var student = (dev.distill.runner.config.ModelConfig.Declared) c.models().get("student");
        assertEquals(List.of("student-from-teacher@T1-e1", "student-from-teacher@T1-e3", "student-from-teacher@T4-e1",
                "student-from-teacher@T4-e3"), Sweep.units(c.sweep(), kd, student).stream().map(u -> u.node().id()).toList());
        List<Sweep.Unit> base = Sweep.units(c.sweep(), baseline, student);
        assertEquals(List.of("student-baseline@e1", "student-baseline@e3"), base.stream().map(u -> u.node().id()).toList());
        assertNull(base.get(0).node().distillation());
        assertEquals(3, base.get(1).model().training().epochs());
    }

    /**
     * The teacher's link is swept and trains before anything else; the test split's features here are
     * one column wide, so any prediction on them fails. The run must get through every point and the
     * choice, and fail only when the chosen teacher is tested.
     */
    @Test
    void theTestSplitIsNotReadUntilThePointIsChosen() throws IOException {
        ExperimentConfig c = config(2, "teacher");
        ExperimentData real = ExperimentData.load(c.data(), c.seed());
        LabeledData unreadable = new LabeledData(Nd4j.zeros(real.test().size(), 1), real.test().labels(),
                real.test().numClasses());
        ExperimentData data = new ExperimentData(real.name(), real.train(), real.validation(), unreadable);
        RunDirectory runDir = RunDirectory.create(c.name(), dir.resolve("run"));
        assertThrows(RuntimeException.class, () -> run(c, data, runDir));
        Progress progress = runDir.progress();
        assertNotNull(progress.finished("teacher@e1", 42), "every point trained before the test split was read");
        assertNotNull(progress.finished("teacher@e3", 42));
        assertNull(progress.finished("teacher@e1", 42).testAccuracy());
        assertNull(progress.finished("teacher", 42), "the chosen teacher cannot be tested on this split");
    }

    @Test
    void theChosenPointIsTheLinksModelAndAnInterruptedSweepSkipsFinishedPoints() throws IOException {
        ExperimentConfig c = config(3, "student");
        ExperimentData data = ExperimentData.load(c.data(), c.seed());
        RunDirectory runDir = RunDirectory.create(c.name(), dir.resolve("run"));
        Ran firstRun = run(c, data, runDir);
        RunSummary first = firstRun.summary();

        SweepEntry kd = first.sweeps().get(0);
        assertEquals("student-from-teacher", kd.id());
        assertEquals(4, kd.points().size());
        SweepPoint chosen = kd.points().stream().filter(SweepPoint::chosen).findFirst().orElseThrow();
        for (SweepPoint p : kd.points()) {
            assertTrue(p.validationAccuracyMean() <= chosen.validationAccuracyMean(), p.label());
            assertEquals(2, p.validationAccuracyPerSeed().size());
        }
        assertEquals("student-baseline", first.sweeps().get(1).id());
        assertEquals(2, first.sweeps().get(1).points().size(), "the baseline tries the epochs, not the temperatures");
        RunSummary.ModelEntry entry = first.models().stream().filter(m -> m.id().equals("student-from-teacher"))
                .findFirst().orElseThrow();
        assertEquals(chosen.temperature(), entry.distillation().temperature());
        assertEquals(chosen.validationAccuracyPerSeed().get(0), entry.training().validationAccuracy(), 1e-12,
                "the link's model is the chosen point's, seed for seed");
        assertNotNull(entry.verdict().kdVerdict());
        assertTrue(firstRun.console().contains("student-from-teacher seed 0: sweep point " + chosen.label()
                + ", chosen on validation: test accuracy"), firstRun.console());
        assertFalse(firstRun.console().contains("finished earlier"), "nothing had finished before this run");
        // points are not tested: no predictions are written for them
        try (var files = Files.list(runDir.root().resolve("predictions"))) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().contains("@")));
        }

        // interrupted after the second point of the distilled link: what progress.json would list then
        Progress done = runDir.progress();
        List<Progress.Finished> kept = done.finished().subList(0, 1 + 2 * 2);
        assertEquals("student-from-teacher@T1-e3", kept.get(kept.size() - 1).id());
        runDir.write(new Progress(done.configFile(), done.started(), kept, done.logitsSeconds(), null));
        Files.delete(runDir.root().resolve(RunDirectory.SUMMARY));
        Path finishedPoint = runDir.root().resolve(kept.get(1).file());
        FileTime before = Files.getLastModifiedTime(finishedPoint);

        Ran resumed = run(c, data, RunDirectory.open(runDir.root()));
        assertTrue(resumed.console().contains("student-from-teacher@T1-e1 seed 0: finished earlier"), resumed.console());
        assertTrue(resumed.console().contains("student-from-teacher@T1-e3 seed 1: finished earlier"));
        assertFalse(resumed.console().contains("student-from-teacher@T1-e1 seed 0 epoch"), "not trained again");
        assertTrue(resumed.console().contains("student-from-teacher@T4-e1 seed 0 epoch"), "the rest is trained");
        assertEquals(before, Files.getLastModifiedTime(finishedPoint));
        assertEquals(first.sweeps(), resumed.summary().sweeps().stream()
                .map(s -> new SweepEntry(s.id(), s.model(), s.role(), s.chosen(), s.points().stream()
                        .map(p -> withSeconds(p, first, s.id())).toList())).toList(),
                "the same validation accuracies and the same choice as without the interruption");
    }

    /** {@code p} with the first run's training seconds, the one figure a second session changes. */
    private static SweepPoint withSeconds(SweepPoint p, RunSummary first, String id) {
        double seconds = first.sweeps().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow().points()
                .stream().filter(q -> q.label().equals(p.label())).findFirst().orElseThrow().trainSeconds();
        return new SweepPoint(p.label(), p.temperature(), p.softWeight(), p.hardWeight(), p.epochs(), p.learningRate(),
                p.schedule(), p.weightDecay(), p.validationAccuracyMean(), p.validationAccuracyStd(),
                p.validationAccuracyPerSeed(), seconds, p.chosen(), p.alpha(), p.beta());
    }
}
