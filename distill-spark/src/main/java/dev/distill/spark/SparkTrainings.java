package dev.distill.spark;

import dev.distill.core.train.TeacherLogits;
import dev.distill.core.train.TrainingListener;
import dev.distill.runner.config.DefaultPaths;
import dev.distill.runner.pipeline.Pipeline;
import dev.distill.runner.pipeline.Progress;
import dev.distill.runner.pipeline.TrainingRunner;
import dev.distill.runner.report.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A run's independent trainings as Spark tasks: one task per training, each calling
 * {@link Pipeline#trainInTask} on the run directory, which every executor reaches at the same path
 * (local[N]'s executors share this machine's file system; a cluster needs a mounted shared path) or
 * through Hadoop's FileSystem ({@value #HADOOP_RUN_DIRECTORY}, {@value #RUN_DIRECTORY}); and a
 * teacher's logits over parts of the training set, one task per part.
 * A failed task is retried by Spark (spark.task.maxFailures on a cluster; {@code local[N,F]} tries a
 * task F times) and continues from its training's last checkpoint in the run directory.
 */
public final class SparkTrainings implements TrainingRunner {

    private final JavaSparkContext spark;
    private final TaskFault fault;
    /**
     * {@value #HADOOP_RUN_DIRECTORY}: tasks reach the run directory through Hadoop's FileSystem, at the
     * run directory's URI, and train in a local copy ({@link StagedTraining}).
     */
    private final boolean throughHadoop;
    /** The Spark setting that makes tasks reach the run directory through Hadoop's FileSystem. */
    public static final String HADOOP_RUN_DIRECTORY = "spark.distill.hadoopRunDirectory";
    /**
     * The Spark setting naming the run directory's URI (hdfs://, s3a://) when the driver's run directory
     * is a local copy of it; implies {@value #HADOOP_RUN_DIRECTORY}.
     */
    public static final String RUN_DIRECTORY = "spark.distill.runDirectory";
    /** {@value #RUN_DIRECTORY}, or null: the run directory is the driver's. */
    private final java.net.URI runDirectory;
    /** The driver's run directory as a copy of {@link #runDirectory}, once known. */
    private StagedTraining driverCopy;
    /** The run's console. */
    private final PrintStream out;
    /** The wave being trained, by task index: what a failed attempt's line names. */
    private volatile List<Pipeline.PlannedTraining> wave = List.of();

    /** Found by {@link TrainingRunner#open}. */
    public static final class Provider implements TrainingRunner.Provider {
        @Override
        public TrainingRunner open(String master, PrintStream out, java.net.URI runDirectory) {
            SparkConf conf = new SparkConf();
            if (runDirectory != null) {
                conf.set(RUN_DIRECTORY, runDirectory.toString());
            }
            return new SparkTrainings(conf, master, out, TaskFault.NONE);
        }
    }

    /**
     * @param conf   settings beyond the master (e.g. spark.task.maxFailures); spark-submit's own are kept
     * @param out    where a failed task attempt is said, in one line (the run's console)
     * @param fault  what each task does to itself (tests: fail a first attempt mid-training)
     */
    public SparkTrainings(SparkConf conf, String master, PrintStream out, TaskFault fault) {
        // Spark logs through the project's slf4j-simple: its INFO lines would bury the run's own (read as loggers
        // are made); a failed task's stack trace (logged by the executor and the task set) is said in one line instead
        java.util.Map<String, String> levels = java.util.Map.of("org.apache.spark", "warn", "org.sparkproject", "warn",
                "org.apache.hadoop", "warn", "org.apache.spark.executor.Executor", "off",
                "org.apache.spark.scheduler.TaskSetManager", "off",
                // "Unable to load native-hadoop library": Hadoop's Java code is what runs, as intended
                "org.apache.hadoop.util.NativeCodeLoader", "error");
        levels.forEach((logger, level) -> {
            if (System.getProperty("org.slf4j.simpleLogger.log." + logger) == null) {
                System.setProperty("org.slf4j.simpleLogger.log." + logger, level);
            }
        });
        this.fault = fault;
        this.out = out;
        SparkConf settings = conf.clone().setIfMissing("spark.app.name", "distill");
        if (!settings.contains("spark.master")) {
            settings.setMaster(master);
        }
        this.runDirectory = settings.contains(RUN_DIRECTORY) ? java.net.URI.create(settings.get(RUN_DIRECTORY)) : null;
        this.throughHadoop = runDirectory != null || settings.getBoolean(HADOOP_RUN_DIRECTORY, false);
        this.spark = new JavaSparkContext(settings);
        this.spark.setLogLevel("WARN");
        this.spark.sc().addSparkListener(new FailedAttempts());
    }

    /** Says each failed task attempt in one line: which training, which attempt, the error's first line. */
    private final class FailedAttempts extends org.apache.spark.scheduler.SparkListener {
        @Override
        public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
            if (!(end.reason() instanceof org.apache.spark.TaskFailedReason failed)
                    || failed instanceof org.apache.spark.TaskKilled) {
                return; // a success, or a task Spark stopped because another failed for good
            }
            List<Pipeline.PlannedTraining> trainings = wave;
            int index = end.taskInfo().index();
            String training = index < trainings.size() ? trainings.get(index).recordId() + " seed "
                    + trainings.get(index).seed() : "task " + index;
            String error = failed.toErrorString().lines().findFirst().orElse("");
            out.printf(java.util.Locale.ROOT, "warning: Spark: %s, attempt %d, failed: %s%s%n", training,
                    end.taskInfo().attemptNumber() + 1, error,
                    failed.countTowardsTaskFailures() ? "" : " (not counted as the task's failure)");
        }
    }

    @Override
    public List<Progress.Finished> train(Path runDir, List<Pipeline.PlannedTraining> trainings) {
        String dir = runDir.toAbsolutePath().normalize().toString();
        Driver driver = Driver.here();
        TaskFault taskFault = fault;
        wave = List.copyOf(trainings);
        java.net.URI shared = shared(runDir);
        send(runDir, "logits", "models");
        Function<Pipeline.PlannedTraining, String> task = t -> {
            Path driverDir = driver.adopt();
            List<TrainingListener> listeners = new java.util.ArrayList<>();
            List<TrainingListener> faults = taskFault.listeners(t, org.apache.spark.TaskContext.get().attemptNumber());
            if (shared == null) {
                listeners.addAll(faults);
                listeners.add(new EndsWhenKilled());
                return Json.pretty(Pipeline.trainInTask(Path.of(dir), driverDir, t, System.out, listeners));
            }
            try (StagedTraining staged = StagedTraining.pull(shared, t)) {
                // first: an epoch's checkpoint goes out before anything else hears of the epoch (a fault, a kill)
                listeners.add(new SendsCheckpoints(staged));
                listeners.addAll(faults);
                listeners.add(new EndsWhenKilled());
                Progress.Finished done = Pipeline.trainInTask(staged.local(), driverDir, t, System.out, listeners);
                staged.pushOutputs();
                return Json.pretty(done);
            }
        };
        List<Progress.Finished> done = collect(trainings, task).stream()
                .map(r -> Json.read(r, runDir.resolve("(task record)"), Progress.Finished.class, "training record"))
                .toList();
        if (driverCopy != null) {
            for (Progress.Finished f : done) {
                driverCopy.take(f.file(), dev.distill.runner.report.Predictions.file(f.id()));
            }
        }
        return done;
    }

    @Override
    public INDArray teacherLogits(Path runDir, String teacherFile, long examples) {
        // parts of whole batches, as many as the cluster runs at once
        long batches = (examples + TeacherLogits.BATCH - 1) / TeacherLogits.BATCH;
        long parts = Math.max(1, Math.min(spark.defaultParallelism(), batches));
        List<long[]> ranges = new java.util.ArrayList<>();
        for (long p = 0; p < parts; p++) {
            long from = batches * p / parts * TeacherLogits.BATCH;
            long to = Math.min(examples, batches * (p + 1) / parts * TeacherLogits.BATCH);
            ranges.add(new long[] {from, to});
        }
        String dir = runDir.toAbsolutePath().normalize().toString();
        Driver driver = Driver.here();
        java.net.URI shared = shared(runDir);
        send(runDir, teacherFile);
        Function<long[], float[]> task = r -> {
            Path driverDir = driver.adopt();
            if (shared == null) {
                return Pipeline.teacherLogitsInTask(Path.of(dir), driverDir, teacherFile, r[0], r[1]);
            }
            try (StagedTraining staged = StagedTraining.pullTeacher(shared, teacherFile)) {
                return Pipeline.teacherLogitsInTask(staged.local(), driverDir, teacherFile, r[0], r[1]);
            }
        };
        wave = List.of();
        List<float[]> computed = collect(ranges, task);
        int total = computed.stream().mapToInt(a -> a.length).sum();
        float[] all = new float[total];
        int at = 0;
        for (float[] part : computed) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        out.printf(java.util.Locale.ROOT, "  logits of %s: %d part(s) of the training set on %s%n", teacherFile, parts,
                this);
        return Nd4j.create(all, new long[] {examples, total / examples}, 'c');
    }

    /**
     * Where the driver finds things, for its tasks: an executor's working directory is its own (on a
     * cluster, and with local-cluster), so a task reads the config path from the driver's working
     * directory and the shipped files (the digits data) under the driver's {@code distill.home}.
     */
    private record Driver(String workingDirectory, String home) implements java.io.Serializable {
        static Driver here() {
            return new Driver(Path.of("").toAbsolutePath().toString(), DefaultPaths.home().toString());
        }

        /** In a task: takes the driver's {@code distill.home} unless this JVM has one; the driver's working directory. */
        Path adopt() {
            if (System.getProperty("distill.home") == null) {
                System.setProperty("distill.home", home);
            }
            return Path.of(workingDirectory);
        }
    }

    /** The run directory's URI tasks reach it at through Hadoop's FileSystem, or null: its path. */
    private java.net.URI shared(Path runDir) {
        return runDirectory != null ? runDirectory : throughHadoop ? runDir.toAbsolutePath().normalize().toUri() : null;
    }

    /** With {@value #RUN_DIRECTORY}: sends the run's config, progress record and {@code more} there before a job. */
    private void send(Path runDir, String... more) {
        if (runDirectory == null) {
            return;
        }
        if (driverCopy == null) {
            driverCopy = StagedTraining.driverCopy(runDirectory, runDir.toAbsolutePath().normalize());
        }
        driverCopy.send("config.yaml", "checkpoints/config.yaml", "checkpoints/" + Progress.FILE,
                "checkpoints/" + Progress.BACKUP);
        driverCopy.send(more);
    }

    /**
     * Runs {@code task} on each item as one Spark task and returns the results in order; a task failing
     * for good fails it with the task's one-line error, once no task of the job runs any more.
     */
    private <T, R> List<R> collect(List<T> items, Function<T, R> task) {
        JavaFutureAction<List<R>> job = null;
        try {
            job = spark.parallelize(items, items.size()).map(task).collectAsync();
            return job.get();
        } catch (Exception e) { // ExecutionException around Spark's SparkException
            if (job != null) {
                awaitEnd(job);
            }
            // a task's own one-line error (bad data, a full disk) is the run's, as it would be locally
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof dev.distill.core.DistillException d) {
                    throw d;
                }
            }
            // Spark's message carries the driver's stack trace: the first line of the deepest cause is the error
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String message = root.getMessage() == null ? root.toString() : root.getMessage();
            throw new dev.distill.core.DistillException("Spark " + spark.master() + ": a task failed: "
                    + message.lines().findFirst().orElse(root.toString()), e);
        }
    }

    /** Longest wait for a failed job's killed tasks to end (each ends at its next batch). */
    private static final java.time.Duration KILLED_TASKS_END = java.time.Duration.ofMinutes(2);

    /**
     * Waits until no task of a failed job runs: Spark kills the others when one fails for good, but a
     * killed task's thread goes on until it looks ({@link EndsWhenKilled}), and must not write into the
     * run directory once the run has said it stopped. Spark's status store hears of a task's start before
     * the job's end, so a task started before the failure is counted here until it ends.
     */
    private void awaitEnd(JavaFutureAction<?> job) {
        long deadline = System.nanoTime() + KILLED_TASKS_END.toNanos();
        org.apache.spark.api.java.JavaSparkStatusTracker status = spark.statusTracker();
        while (System.nanoTime() < deadline) {
            boolean running = false;
            for (int id : job.jobIds()) {
                org.apache.spark.SparkJobInfo info = status.getJobInfo(id);
                running |= info != null && info.status() == org.apache.spark.JobExecutionStatus.RUNNING;
                for (int stage : info == null ? new int[0] : info.stageIds()) {
                    org.apache.spark.SparkStageInfo stageInfo = status.getStageInfo(stage);
                    running |= stageInfo != null && stageInfo.numActiveTasks() > 0;
                }
            }
            if (!running) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Sends a staged training's checkpoints to the run directory after each epoch. */
    private record SendsCheckpoints(StagedTraining staged) implements TrainingListener {
        @Override
        public void epochDone(dev.distill.core.train.EpochMetrics metrics, boolean best) {
            staged.pushCheckpoints();
        }
    }

    /**
     * Ends a task Spark has killed (its job failed or was cancelled) at its next batch: a training never
     * looks at its thread's interrupt, and would go on writing its checkpoints.
     */
    private static final class EndsWhenKilled implements TrainingListener {
        @Override
        public void batchDone(long examplesDone, double batchLoss) {
            org.apache.spark.TaskContext context = org.apache.spark.TaskContext.get();
            if (context != null) {
                context.killTaskIfInterrupted();
            }
        }
    }

    /** Stops Spark; with {@value #RUN_DIRECTORY}, first sends the whole run directory there (summary, report). */
    @Override
    public void close() {
        try {
            if (driverCopy != null) {
                driverCopy.send(".");
            }
        } finally {
            spark.close();
        }
    }

    @Override
    public String toString() {
        return "Spark " + spark.master();
    }

    /** What a task does to itself besides training: nothing, except in tests of retries. */
    public interface TaskFault extends java.io.Serializable {
        TaskFault NONE = (training, attempt) -> List.of();

        /** Listeners for {@code training}'s task in its {@code attempt}-th attempt (0 first). */
        List<TrainingListener> listeners(Pipeline.PlannedTraining training, int attempt);
    }
}
