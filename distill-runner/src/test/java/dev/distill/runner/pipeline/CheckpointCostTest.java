package dev.distill.runner.pipeline;

import dev.distill.core.io.CheckpointStore;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.NetworkFactory;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Not part of the suite: what one checkpoint of the Fashion-MNIST teacher (824,458 parameters, Adam)
 * costs. Run with {@code mvn -o -B test -pl distill-runner -am -Dtest=CheckpointCostTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Ddistill.measure=true}.
 */
@EnabledIfSystemProperty(named = "distill.measure", matches = "true")
class CheckpointCostTest {

    @Test
    void secondsPerCheckpointOfTheFashionMnistTeacher(@TempDir Path temp) throws Exception {
        ExperimentConfig config = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-takd.yaml"));
        ModelConfig.Declared teacher = (ModelConfig.Declared) config.models().get("teacher");
        MultiLayerNetwork net = NetworkFactory.build(teacher.spec(), config.data().input(),
                teacher.training().updater(), teacher.training().weightDecay(), 1);
        // a few batches so that Adam's state holds real values
        for (int i = 0; i < 3; i++) {
            var x = Nd4j.rand(DataType.FLOAT, 128, 784);
            var y = Nd4j.zeros(DataType.FLOAT, 128, 10);
            for (int r = 0; r < 128; r++) {
                y.putScalar(r, (r * 7 + i) % 10, 1);
            }
            net.fit(x, y);
        }
        net.incrementEpochCount();
        TrainingState state = new TrainingState(54_000, 1, 0, 0, 0,
                List.of(new dev.distill.core.train.EpochMetrics(1, 0.5, 0.8, 164, 329)), 1, 0.8, net.params().dup(),
                164, Nd4j.getRandom().rootState(), Nd4j.getRandom().nodeState());
        CheckpointStore store = new CheckpointStore(temp, CheckpointPolicy.DEFAULT.keep());
        int n = 9;
        double[] seconds = new double[n];
        double[] cpu = new double[n];
        double[] serialize = new double[n];
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            long cpuStart = threads.getCurrentThreadCpuTime();
            store.save(net, state);
            seconds[i] = (System.nanoTime() - start) / 1e9;
            cpu[i] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            // DL4J's own part: the network with its updater state, zipped in memory
            long s0 = System.nanoTime();
            org.deeplearning4j.util.ModelSerializer.writeModel(net, new java.io.ByteArrayOutputStream(), true);
            serialize[i] = (System.nanoTime() - s0) / 1e9;
        }
        long bytes = Files.size(temp.resolve(store.newestEntry().orElseThrow().file()));
        long t0 = System.nanoTime();
        store.newestGood(System.out::println).orElseThrow();
        double restore = (System.nanoTime() - t0) / 1e9;
        double median = median(seconds);
        System.out.printf(Locale.ROOT, "checkpoint of the Fashion-MNIST teacher (%,d params): %,d bytes; write "
                        + "seconds %s; median %.3f s wall (%.3f s CPU of the writing thread; ModelSerializer alone "
                        + "%.3f s) = %.2f%% of a 164 s epoch; restore (checksum + read) %.3f s; load average %.2f%n",
                net.numParams(), bytes, Arrays.toString(seconds), median, median(cpu), median(serialize),
                100 * median / 164, restore,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
