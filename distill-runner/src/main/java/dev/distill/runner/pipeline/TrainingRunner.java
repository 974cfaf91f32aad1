package dev.distill.runner.pipeline;

import dev.distill.core.DistillException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Where a plan's independent trainings run when not one after another in this process: a cluster.
 * The runner module knows no cluster: an implementation (the distill-spark module's) is found on the
 * class path by {@link ServiceLoader}, so nothing of it loads for a local run.
 */
public interface TrainingRunner extends AutoCloseable {

    /**
     * Trains these trainings of the run in {@code runDir} (none needs another's model; their teachers'
     * logits are in the run directory) and returns each one's record, in the order given. Each task
     * calls {@link Pipeline#trainInTask}, which writes its model and checkpoints into {@code runDir}.
     */
    List<Progress.Finished> train(Path runDir, List<Pipeline.PlannedTraining> trainings);

    /**
     * The logits of a finished teacher (its model file {@code teacherFile}, relative to {@code runDir},
     * e.g. {@code models/teacher.zip}) on the run's {@code examples} training inputs,
     * {@code [examples, classes]}, computed over parts of them that start at multiples of
     * {@link dev.distill.core.train.TeacherLogits#BATCH} (so the floats are the ones computing them at
     * once gives). Each part's task calls {@link Pipeline#teacherLogitsInTask}.
     */
    org.nd4j.linalg.api.ndarray.INDArray teacherLogits(Path runDir, String teacherFile, long examples);

    @Override
    void close();

    /** Opens runners on a cluster; registered in {@code META-INF/services}. */
    interface Provider {
        /**
         * A runner whose tasks go to {@code master} (e.g. {@code local[2]}, {@code spark://host:7077}).
         *
         * @param runDirectory where the run directory is (hdfs://, s3a://), the driver's being a local copy
         *                     of it; null: the driver's run directory itself
         */
        TrainingRunner open(String master, PrintStream out, java.net.URI runDirectory);
    }

    /** The runner on {@code master} of the provider on the class path, or a one-line error if there is none. */
    static TrainingRunner open(String master, PrintStream out) {
        return open(master, out, null);
    }

    /** As {@link #open(String, PrintStream)}, the run directory at {@code runDirectory} (see {@link Provider#open}). */
    static TrainingRunner open(String master, PrintStream out, java.net.URI runDirectory) {
        return ServiceLoader.load(Provider.class).findFirst()
                .orElseThrow(() -> new DistillException("--spark " + master + ": Spark support is not on the class "
                        + "path: build with mvn -B -DskipTests package (the distill-spark module) and run ./distill, "
                        + "which adds it when --spark is given"))
                .open(master, out, runDirectory);
    }
}
