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
import dev.distill.runner.testing.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());

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
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]",
                new PrintStream(console, true, StandardCharsets.UTF_8), SparkTrainings.TaskFault.NONE)) {
            summary = run(runs.resolve("spark"), spark, console);
        }
        assertEquals(local, figures(summary));
        String said = console.toString(StandardCharsets.UTF_8);
        // the teachers' logits, computed over 2 parts of the 1,294 training examples (whole batches of 512):
        // the floats of computing them at once
        for (String teacher : List.of("teacher", "assistant-from-teacher")) {
            assertTrue(said.contains("logits of models/" + teacher + ".zip: 2 part(s) of the training set on Spark local[2]"),
                    said);
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(runs.resolve("local/logits/" + teacher + ".bin")),
                    Files.readAllBytes(runs.resolve("spark/logits/" + teacher + ".bin"))), teacher);
        }
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

    /**
     * Tasks reach the run directory through Hadoop's FileSystem (a file: URI here; hdfs:// or s3a:// on
     * a cluster) and train in a local copy: the epoch-1 checkpoint the failed attempt sent is the one
     * its retry continues from, and the directory is the local run's (no Hadoop .crc files). (A retry
     * on the run directory as a path: {@link #anExecutorJvmKilledMidTrainingIsReplacedAndItsTrainingResumesFromItsCheckpoint}.)
     */
    @Test
    void aRunDirectoryReachedThroughHadoopsFileSystemGivesTheSameFiguresAndRetriesFromItsCheckpoint() throws Exception {
        RunSummary summary = runFailingTheTeachersFirstAttempt("hadoop",
                new SparkConf().set(SparkTrainings.HADOOP_RUN_DIRECTORY, "true"));
        assertEquals(local, figures(summary));
        try (var files = Files.walk(runs.resolve("hadoop"))) {
            assertEquals(List.of(), files.map(Path::toString).filter(f -> f.endsWith(".crc") || f.endsWith(".tmp")).toList());
        }
        assertTrue(Files.isRegularFile(runs.resolve("hadoop/models/student-from-assistant-seed1.zip")));
        assertTrue(Files.isRegularFile(runs.resolve("hadoop/predictions/teacher.json")));
    }

    /**
     * The run directory elsewhere (hdfs:// or s3a:// on a cluster; another directory's file: URI here),
     * the driver's a local copy of it: tasks read from and write to it alone, and it ends holding the
     * whole run (summary, report, models, checkpoints); the figures are the local run's.
     */
    @Test
    void aRunDirectoryElsewhereThanTheDriversIsWrittenThroughHadoopsFileSystem() throws Exception {
        Path shared = runs.resolve("elsewhere");
        RunSummary summary = runFailingTheTeachersFirstAttempt("driver-copy",
                new SparkConf().set(SparkTrainings.RUN_DIRECTORY, shared.toUri().toString()));
        assertEquals(local, figures(summary));
        for (String file : List.of("summary.json", "report.html", "checkpoints/progress.json", "models/teacher.zip",
                "models/student-from-assistant-seed1.zip", "logits/assistant-from-teacher.bin", "predictions/teacher.json")) {
            assertTrue(Files.isRegularFile(shared.resolve(file)), file);
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(shared.resolve(file)),
                    Files.readAllBytes(runs.resolve("driver-copy").resolve(file))), file + " as the driver's copy");
        }
        assertTrue(Files.isDirectory(shared.resolve("checkpoints/student-baseline-seed1")), "the tasks' checkpoints");
        assertTrue(!Files.exists(runs.resolve("driver-copy/checkpoints/student-baseline-seed1")),
                "the tasks wrote only there");
    }

    /** The run in {@code runs/<name>} on local[2,2], the teacher's first attempt failing after epoch 1. */
    private static RunSummary runFailingTheTeachersFirstAttempt(String name, SparkConf conf) throws Exception {
        Path attempts = runs.resolve(name + "-attempts.txt");
        String log = attempts.toString(); // a Path is not serializable
        SparkTrainings.TaskFault failTeacherOnce = (training, attempt) -> !training.nodeId().equals("teacher") ? List.of()
                : List.of(new EndsFirstAttemptAfterEpochOne(attempt, log, false));
        RunSummary summary;
        // local[2,2]: each task may be tried twice
        try (TrainingRunner spark = new SparkTrainings(conf, "local[2,2]", QUIET, failTeacherOnce)) {
            summary = run(runs.resolve(name), spark, new ByteArrayOutputStream());
        }
        assertEquals(List.of(1, 2), Attempt.read(attempts).stream().map(Attempt::firstEpoch).toList(),
                "the first attempt starts at epoch 1, the retry at epoch 2");
        return summary;
    }

    /**
     * local-cluster[1,1,1024]: a standalone master and worker in this JVM, the executor a JVM of its own
     * (Spark's test mode: the worker builds the executor's command from spark.test.home and gives it this
     * JVM's class path). The teacher's first attempt ends its executor's JVM after epoch 1; the master
     * starts another executor and the retried task goes on from the epoch-1 checkpoint.
     */
    @Test
    void anExecutorJvmKilledMidTrainingIsReplacedAndItsTrainingResumesFromItsCheckpoint() throws Exception {
        Path attempts = runs.resolve("killed-attempts.txt");
        String log = attempts.toString();
        SparkTrainings.TaskFault haltTeacherOnce = (training, attempt) -> !training.nodeId().equals("teacher")
                ? List.of() : List.of(new EndsFirstAttemptAfterEpochOne(attempt, log, true));
        RunSummary summary;
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (AutoCloseable testMode = sparkTestMode(runs.resolve("spark-home"));
                TrainingRunner spark = new SparkTrainings(new SparkConf()
                        .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                        .set("spark.executor.memory", "1g"), "local-cluster[1,1,1024]",
                        new PrintStream(console, true, StandardCharsets.UTF_8), haltTeacherOnce)) {
            summary = run(runs.resolve("killed"), spark, console);
        }
        List<Attempt> tried = Attempt.read(attempts);
        assertEquals(List.of(1, 2), tried.stream().map(Attempt::firstEpoch).toList(),
                "the first attempt starts at epoch 1, the retry at epoch 2: " + tried);
        long self = ProcessHandle.current().pid();
        assertTrue(tried.get(0).pid() != self && tried.get(1).pid() != self && tried.get(0).pid() != tried.get(1).pid(),
                "two executor JVMs, neither this one: " + tried);
        assertTrue(ProcessHandle.of(tried.get(0).pid()).map(p -> !p.isAlive()).orElse(true), "the first executor is gone");
        String said = console.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("warning: Spark: teacher seed 42, attempt 1, failed: ExecutorLostFailure"), said);
        assertEquals(local, figures(summary), said);
    }

    /**
     * Bad data found by the driver: the CLI reads and checks the data before Spark starts, so a damaged
     * file fails {@code run --spark} in the local run's line and exit code, and leaves no run directory.
     */
    @Test
    void aDamagedDataFileFailsASparkRunWithTheLocalRunsLineAndExitCode() throws Exception {
        List<String> rows = digitsRows();
        rows.set(16, rows.get(16).replaceFirst("^\\d+,", "x,"));
        Path damaged = writeDigits(runs.resolve("damaged-digits.csv.gz"), rows);
        List<String> set = setOptions("data.path=" + damaged);
        CliRun local = cli(concat(List.of("run", CONFIG.toString(), "--out", runs.resolve("damaged-local").toString()), set));
        CliRun spark = cli(concat(List.of("run", CONFIG.toString(), "--out", runs.resolve("damaged-spark").toString(),
                "--spark", "local[1]"), set));
        assertEquals(dev.distill.runner.cli.DistillCli.BAD_INPUT, local.code(), local.err());
        assertTrue(local.err().startsWith("error: " + damaged + ": line 17") && local.err().lines().count() == 1, local.err());
        assertEquals(local.code(), spark.code());
        assertEquals(local.err(), spark.err());
        assertTrue(!Files.exists(runs.resolve("damaged-spark")), "no run directory");
    }

    /**
     * Bad data found by a task: the data file was changed (a tenth of its rows cut) after a run stopped
     * with the teacher's epoch-1 checkpoint; resuming, the teacher's task finds its checkpoint made on
     * other data. The CLI says it in the line and exit code of the local resume, with no summary written.
     */
    @Test
    void aTaskFindingTheDataChangedFailsTheSparkResumeWithTheLocalResumesLineAndExitCode() throws Exception {
        List<String> rows = digitsRows();
        Path data = writeDigits(runs.resolve("changing-digits.csv.gz"), rows);
        ExperimentConfig config = ConfigLoader.load(CONFIG, concat(SHORT, List.of("data.path=" + data)));
        Path stopped = runs.resolve("changed-stopped");
        SparkTrainings.TaskFault failTeacher = (training, attempt) -> !training.nodeId().equals("teacher") ? List.of()
                : List.of(new AlwaysFailsAfterFirstEpoch());
        // local[1]: the teacher's task runs first and stops the run after its first epoch
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[1]", QUIET, failTeacher)) {
            assertThrows(DistillException.class, () -> new Pipeline(config, ExperimentData.load(config.data(), config.seed()),
                    Map.of(), RunDirectory.create(config.name(), stopped), new PrintStream(new ByteArrayOutputStream()),
                    false, spark).run());
        }
        writeDigits(data, rows.subList(0, rows.size() - rows.size() / 10));
        Path localDir = CliRun.copyTree(stopped, runs.resolve("changed-local"));
        Path sparkDir = CliRun.copyTree(stopped, runs.resolve("changed-spark"));
        CliRun local = cli(List.of("resume", localDir.toString()));
        CliRun spark = cli(List.of("resume", sparkDir.toString(), "--spark", "local[1]"));
        assertEquals(dev.distill.runner.cli.DistillCli.BAD_INPUT, local.code(), local.err());
        assertTrue(local.err().contains("the data changed since the run started") && local.err().lines().count() == 1,
                local.err());
        assertEquals(local.err().replace(localDir.toString(), "RUN"), spark.err().replace(sparkDir.toString(), "RUN"));
        assertEquals(local.code(), spark.code());
        for (Path dir : List.of(localDir, sparkDir)) {
            assertTrue(!Files.exists(dir.resolve("summary.json")), dir + ": no summary");
            assertTrue(Files.readString(dir.resolve("checkpoints/progress.json")).contains("the data changed"),
                    dir + ": the failure is recorded for status");
        }
    }

    private static CliRun cli(List<String> args) {
        return CliRun.of(args.toArray(String[]::new));
    }

    private static List<String> setOptions(String... overrides) {
        List<String> options = new ArrayList<>();
        for (String o : concat(SHORT, List.of(overrides))) {
            options.add("--set");
            options.add(o);
        }
        return options;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static List<String> digitsRows() throws java.io.IOException {
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(
                dev.distill.runner.config.DefaultPaths.digits()))) {
            return new ArrayList<>(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        }
    }

    private static Path writeDigits(Path file, List<String> rows) throws java.io.IOException {
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(String.join("\n", rows).concat("\n").getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    /**
     * Spark's test mode for local-cluster masters, until closed: a Spark home with an empty jars/ (the
     * executors get this JVM's class path instead) and a work/ directory for the executors' logs.
     */
    private static AutoCloseable sparkTestMode(Path home) throws java.io.IOException {
        Files.createDirectories(home.resolve("jars"));
        System.setProperty("spark.testing", "true");
        System.setProperty("spark.test.home", home.toString());
        return () -> {
            System.clearProperty("spark.testing");
            System.clearProperty("spark.test.home");
        };
    }

    @Test
    void aRunStoppedByAFailedTaskIsResumedOnSparkWithTheSameFigures() {
        SparkTrainings.TaskFault failTeacher = (training, attempt) -> !training.nodeId().equals("teacher") ? List.of()
                : List.of(new AlwaysFailsAfterFirstEpoch());
        Path dir = runs.resolve("stopped");
        // local[2]: one attempt per task, so the run stops, as a killed driver would leave it
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]", QUIET, failTeacher)) {
            DistillException e = assertThrows(DistillException.class,
                    () -> run(dir, spark, new ByteArrayOutputStream()));
            assertEquals("Spark local[2]: a task failed: task killed after epoch 1 (test)", e.getMessage());
        }
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/teacher-seed42")), "the teacher's checkpoint is kept");
        ExperimentConfig config = ConfigLoader.load(CONFIG, SHORT);
        RunSummary resumed;
        try (TrainingRunner spark = new SparkTrainings(new SparkConf(), "local[2]", QUIET, SparkTrainings.TaskFault.NONE)) {
            resumed = new Pipeline(config, ExperimentData.load(config.data(), config.seed()), Map.of(),
                    RunDirectory.open(dir), new PrintStream(new ByteArrayOutputStream()), false, spark).run();
        }
        assertEquals(local, figures(resumed));
    }

    /** One attempt of a task, as its listener logged it: the epoch it started at and its JVM's process id. */
    private record Attempt(int attempt, int firstEpoch, long pid) {
        static List<Attempt> read(Path log) throws java.io.IOException {
            return Files.readAllLines(log).stream().map(line -> line.split(" "))
                    .map(f -> new Attempt(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Long.parseLong(f[2]))).toList();
        }
    }

    /**
     * Logs each attempt's first epoch (to a file: the attempt may run in another JVM) and ends the first
     * attempt after its first epoch, once that epoch's checkpoint is written: by throwing, or by halting
     * its executor's JVM as a crash or a kill would (never the driver's: there it throws).
     */
    private static final class EndsFirstAttemptAfterEpochOne implements TrainingListener, java.io.Serializable {
        private final int attempt;
        private final String log;
        private final boolean halt;
        private boolean logged;

        EndsFirstAttemptAfterEpochOne(int attempt, String log, boolean halt) {
            this.attempt = attempt;
            this.log = log;
            this.halt = halt;
        }

        @Override
        public void epochStarted(int epoch, int epochs, long examples) {
            if (!logged) {
                logged = true;
                try {
                    Files.writeString(Path.of(log), attempt + " " + epoch + " " + ProcessHandle.current().pid() + "\n",
                            StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override
        public void epochDone(EpochMetrics metrics, boolean best) {
            if (attempt != 0) {
                return;
            }
            if (halt && !"driver".equals(org.apache.spark.SparkEnv.get().executorId())) {
                Runtime.getRuntime().halt(137);
            }
            throw new IllegalStateException("task killed after epoch " + metrics.epoch() + " (test)");
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
