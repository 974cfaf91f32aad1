package dev.distill.spark;

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
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

/**
 * A run's independent trainings as Spark tasks: one task per training, each calling
 * {@link Pipeline#trainInTask} on the run directory, which every executor reaches at the same path
 * (local[N]'s executors share this machine's file system; a cluster needs a mounted shared path).
 * A failed task is retried by Spark (spark.task.maxFailures on a cluster; {@code local[N,F]} tries a
 * task F times) and continues from its training's last checkpoint in the run directory.
 */
public final class SparkTrainings implements TrainingRunner {

    private final JavaSparkContext spark;
    private final TaskFault fault;

    /** Found by {@link TrainingRunner#open}. */
    public static final class Provider implements TrainingRunner.Provider {
        @Override
        public TrainingRunner open(String master, PrintStream out) {
            return new SparkTrainings(new SparkConf(), master, TaskFault.NONE);
        }
    }

    /**
     * @param conf   settings beyond the master (e.g. spark.task.maxFailures); spark-submit's own are kept
     * @param fault  what each task does to itself (tests: fail a first attempt mid-training)
     */
    public SparkTrainings(SparkConf conf, String master, TaskFault fault) {
        // Spark logs through the project's slf4j-simple: its INFO lines would bury the run's own (read as loggers are made)
        for (String logger : List.of("org.apache.spark", "org.sparkproject", "org.apache.hadoop")) {
            if (System.getProperty("org.slf4j.simpleLogger.log." + logger) == null) {
                System.setProperty("org.slf4j.simpleLogger.log." + logger, "warn");
            }
        }
        this.fault = fault;
        SparkConf settings = conf.clone().setIfMissing("spark.app.name", "distill");
        if (!settings.contains("spark.master")) {
            settings.setMaster(master);
        }
        this.spark = new JavaSparkContext(settings);
        this.spark.setLogLevel("WARN");
    }

    @Override
    public List<Progress.Finished> train(Path runDir, List<Pipeline.PlannedTraining> trainings) {
        String dir = runDir.toAbsolutePath().normalize().toString();
        // an executor's working directory is its own: it finds the config and the shipped files where the driver does
        String driverDir = Path.of("").toAbsolutePath().toString();
        String home = DefaultPaths.home().toString();
        TaskFault taskFault = fault;
        Function<Pipeline.PlannedTraining, String> task = t -> {
            if (System.getProperty("distill.home") == null) {
                System.setProperty("distill.home", home);
            }
            return Json.pretty(Pipeline.trainInTask(Path.of(dir), Path.of(driverDir), t, System.out,
                    taskFault.listeners(t, org.apache.spark.TaskContext.get().attemptNumber())));
        };
        List<String> records;
        try {
            records = spark.parallelize(trainings, trainings.size()).map(task).collect();
        } catch (Exception e) { // Scala throws the checked SparkException undeclared
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
        return records.stream()
                .map(r -> Json.read(r, runDir.resolve("(task record)"), Progress.Finished.class, "training record"))
                .toList();
    }

    @Override
    public void close() {
        spark.close();
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
