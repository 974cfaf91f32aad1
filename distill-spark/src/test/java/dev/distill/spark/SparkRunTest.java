package dev.distill.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingListener;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.pipeline.Pipeline;
import dev.distill.runner.pipeline.RunDirectory;
import dev.distill.runner.pipeline.TrainingRunner;
import dev.distill.runner.report.RunSummary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digits sweep, cut short (teacher 2 epochs, the rest 1; 2 seeds; 2 points per swept link: 12
 * trainings in 3 waves), run locally and as Spark tasks on local[2]: the same figures to the last digit.
 */
class SparkRunTest {

    private static final Path CONFIG = Path.of("..", "configs", "digits-sweep.yaml").toAbsolutePath().normalize();
    private static final List<String> SHORT = List.of("models.teacher.training.epochs=2",
            "models.assistant.training.epochs=1", "models.student.training.epochs=1", "seeds=[0,1]",
            "sweep.grid.soft_weight=[0.9]");

    @TempDir
    static Path runs;
    private static List<String> local;

    @BeforeAll
    static void runLocally() {
        local = figures(run(runs.resolve("local"), null, new ByteArrayOutputStream()));
    }

    @Test
    void sparkRunGivesTheLocalRunsFiguresAndDirectory() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        RunSummary summary;
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]", SparkTrainings.TaskFault.NONE)) {
            summary = run(runs.resolve("spark"), spark, console);
        }
        assertEquals(local, figures(summary));
        String said = console.toString(StandardCharsets.UTF_8);
        // the teacher and the baseline's seeds; then the assistant and the teacher's student points; then the assistant's
        assertTrue(said.contains("wave of 3 training(s)") && said.contains("wave of 5 training(s)")
                && said.contains("wave of 4 training(s)"), said);
        for (String file : List.of("summary.json", "report.html", "metrics.jsonl", "checkpoints/progress.json",
                "models/teacher.zip", "models/student-from-assistant-seed1.zip", "logits/assistant-from-teacher.bin")) {
            assertTrue(Files.isRegularFile(runs.resolve("spark").resolve(file)), file);
        }
        assertEquals(Files.readAllLines(runs.resolve("local/metrics.jsonl")).size(),
                Files.readAllLines(runs.resolve("spark/metrics.jsonl")).size());
    }

    /** Attempts' first epochs, in this JVM (local[N]'s tasks are threads of it). */
    static final List<Integer> FIRST_EPOCHS = java.util.Collections.synchronizedList(new ArrayList<>());

    @Test
    void aTaskFailingMidTrainingIsRetriedFromItsCheckpointWithTheSameFigures() {
        SparkTrainings.TaskFault failTeacherOnce = (training, attempt) -> !training.nodeId().equals("teacher") ? List.of()
                : List.of(new FailsAfterFirstEpoch(attempt));
        RunSummary summary;
        // local[2,2]: each task may be tried twice
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2,2]", failTeacherOnce)) {
            summary = run(runs.resolve("retried"), spark, new ByteArrayOutputStream());
        }
        assertEquals(List.of(1, 2), FIRST_EPOCHS, "the first attempt starts at epoch 1, the retry at epoch 2");
        assertEquals(local, figures(summary));
    }

    @Test
    void aRunStoppedByAFailedTaskIsResumedOnSparkWithTheSameFigures() {
        SparkTrainings.TaskFault failTeacher = (training, attempt) -> !training.nodeId().equals("teacher") ? List.of()
                : List.of(new AlwaysFailsAfterFirstEpoch());
        Path dir = runs.resolve("stopped");
        // local[2]: one attempt per task, so the run stops, as a killed driver would leave it
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]", failTeacher)) {
            DistillException e = assertThrows(DistillException.class,
                    () -> run(dir, spark, new ByteArrayOutputStream()));
            assertEquals("Spark local[2]: a task failed: task killed after epoch 1 (test)", e.getMessage());
        }
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/teacher-seed42")), "the teacher's checkpoint is kept");
        ExperimentConfig config = ConfigLoader.load(CONFIG, SHORT);
        RunSummary resumed;
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]", SparkTrainings.TaskFault.NONE)) {
            resumed = new Pipeline(config, ExperimentData.load(config.data(), config.seed()), Map.of(),
                    RunDirectory.open(dir), new PrintStream(new ByteArrayOutputStream()), false, spark).run();
        }
        assertEquals(local, figures(resumed));
    }

    private record FailsAfterFirstEpoch(int attempt) implements TrainingListener, java.io.Serializable {
        @Override
        public void epochStarted(int epoch, int epochs, long examples) {
            if (FIRST_EPOCHS.size() == attempt) {
                FIRST_EPOCHS.add(epoch);
            }
        }

        @Override
        public void epochDone(EpochMetrics metrics, boolean best) {
            // after the epoch's checkpoint is written
            if (attempt == 0) {
                throw new IllegalStateException("task killed after epoch " + metrics.epoch() + " (test)");
            }
        }
    }

    private record AlwaysFailsAfterFirstEpoch() implements TrainingListener, java.io.Serializable {
        @Override
        public void epochDone(EpochMetrics metrics, boolean best) {
            throw new IllegalStateException("task killed after epoch " + metrics.epoch() + " (test)");
        }
    }

    private static RunSummary run(Path dir, TrainingRunner runner, ByteArrayOutputStream console) {
        ExperimentConfig config = ConfigLoader.load(CONFIG, SHORT);
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        RunDirectory run = RunDirectory.create(config.name(), dir);
        PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8);
        return new Pipeline(config, data, Map.of(), run, out, false, runner).run();
    }

    /** Each model's test accuracy per seed and each sweep's validation accuracies and choice, as text. */
    private static List<String> figures(RunSummary summary) {
        List<String> figures = new ArrayList<>();
        for (RunSummary.ModelEntry m : summary.models()) {
            figures.add(m.id() + " " + m.testAccuracy() + " " + (m.seeds() == null ? "" : m.seeds().testAccuracyPerSeed()));
        }
        for (RunSummary.SweepEntry s : summary.sweeps()) {
            figures.add(s.id() + " chose " + s.chosen() + " " + s.points().stream()
                    .map(p -> p.label() + "=" + p.validationAccuracyPerSeed()).toList());
        }
        return figures;
    }
}
