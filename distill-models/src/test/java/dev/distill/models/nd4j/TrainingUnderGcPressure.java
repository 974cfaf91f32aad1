package dev.distill.models.nd4j;

import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec.Dense;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The child process of {@link FencedOpExecutionerTest}: trains a small MLP (dense, then a softmax
 * output, the layers whose bias add crashed) on data it makes, for {@code args[0]} milliseconds,
 * while another thread allocates garbage so that the tiny young generation the test gives it is
 * collected many times a second. Prints whether the fence was active, the steps taken and the
 * training accuracy, and exits 0 when it survives.
 */
public final class TrainingUnderGcPressure {

    private TrainingUnderGcPressure() {
    }

    public static void main(String[] args) {
        long millis = Long.parseLong(args[0]);
        int n = 512;
        int features = 20;
        int classes = 4;
        Random random = new Random(7);
        float[][] x = new float[n][features];
        float[][] y = new float[n][classes];
        for (int i = 0; i < n; i++) {
            int label = i % classes;
            y[i][label] = 1;
            for (int j = 0; j < features; j++) {
                // each class lifts its own block of five features: learnable, not trivial
                x[i][j] = (float) (random.nextGaussian() + (j / 5 == label ? 1.5 : 0));
            }
        }
        INDArray inputs = Nd4j.create(x);
        INDArray labels = Nd4j.create(y);
        MultiLayerNetwork net = NetworkFactory.build(
                new ModelSpec(List.of(new Dense(16, Activation.RELU), new Output(classes))),
                InputShape.flat(features), new Adam(1e-2), 0, 1);
        Thread garbage = new Thread(() -> {
            long sink = 0;
            while (true) {
                sink += new byte[4096].length;
                if (sink < 0) {
                    System.out.println(sink);
                }
            }
        });
        garbage.setDaemon(true);
        garbage.start();
        long end = System.nanoTime() + millis * 1_000_000L;
        long steps = 0;
        while (System.nanoTime() < end) {
            int start = (int) (steps * 32 % n);
            net.fit(new DataSet(inputs.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + 32)),
                    labels.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + 32))));
            steps++;
        }
        INDArray predicted = net.output(inputs).argMax(1);
        double correct = predicted.eq(labels.argMax(1)).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .sumNumber().doubleValue();
        System.out.println("fenced=" + NativeSafety.active() + " steps=" + steps + " accuracy=" + correct / n);
    }
}
