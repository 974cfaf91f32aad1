package dev.distill.runner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.testing.CliRun;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The networks the project builds keep conv layers' forward pre-activations for the backward pass
 * (DL4J's cache mode), and that changes nothing of what is learned: the same batches give bit-identical
 * parameters with the cache and without it. With {@code -Dcache.ab.rounds=N} the test also prints the
 * two sides' training samples per CPU second, in turns (the figure docs/results.md quotes; one OpenMP
 * thread, so ND4J's work runs on this thread).
 */
class ConvCacheModeTest {

    @ParameterizedTest
    @CsvSource({"configs/fashion-mnist-takd.yaml, teacher", "configs/fashion-mnist-mobile.yaml, student"})
    void theCacheLeavesTrainingBitIdentical(String configFile, String model) {
        ExperimentConfig config = ConfigLoader.load(CliRun.repoFile(configFile));
        ModelConfig.Declared m = (ModelConfig.Declared) config.models().get(model);
        MultiLayerNetwork cached = build(config, m);
        MultiLayerNetwork plain = build(config, m);
        assertEquals(CacheMode.DEVICE, cached.getLayerWiseConfigurations().getCacheMode(), "the factory's setting");
        plain.getLayerWiseConfigurations().setCacheMode(CacheMode.NONE);
        plain.setCacheMode(CacheMode.NONE);
        List<DataSet> batches = randomBatches(4, 32);
        for (DataSet b : batches) {
            cached.fit(b);
            plain.fit(b);
        }
        assertEquals(plain.params(), cached.params());

        int rounds = Integer.getInteger("cache.ab.rounds", 0);
        List<DataSet> timed = rounds > 0 ? randomBatches(8, 128) : List.of();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            timed.forEach(plain::fit);
            long t1 = threads.getCurrentThreadCpuTime();
            timed.forEach(cached::fit);
            long t2 = threads.getCurrentThreadCpuTime();
            System.out.printf("%s %s round %d: no cache %.1f, cache %.1f samples per CPU second (x%.3f)%n", configFile,
                    model, r, 1024 / ((t1 - t0) / 1e9), 1024 / ((t2 - t1) / 1e9), (t1 - t0) / (double) (t2 - t1));
        }
    }

    private static MultiLayerNetwork build(ExperimentConfig config, ModelConfig.Declared m) {
        Network net = Networks.build(m.network(), config.data().input(), m.training().updater(), 0, 0, new LossMCXENT());
        return ((Network.Sequential) net).net();
    }

    private static List<DataSet> randomBatches(int count, int size) {
        Nd4j.getRandom().setSeed(3);
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            INDArray labels = Nd4j.zeros(DataType.FLOAT, size, 10);
            for (int r = 0; r < size; r++) {
                labels.putScalar(r, (r + i) % 10, 1f);
            }
            batches.add(new DataSet(Nd4j.rand(DataType.FLOAT, size, 784), labels));
        }
        return batches;
    }
}
