package dev.distill.core.eval;

import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference throughput of networks on the same examples, measured in one process: the networks
 * take turns (so that a change in machine load hits them alike), after one warm-up pass each, and
 * the median of the repeats is kept. On a shared machine, compare figures from one call only.
 */
public final class InferenceSpeed {

    private InferenceSpeed() {
    }

    /** Examples per second of each network (median over {@code repeats} passes over {@code features}). */
    public static double[] samplesPerSecond(INDArray features, int repeats, MultiLayerNetwork... nets) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be positive, got " + repeats);
        }
        double[][] seconds = new double[nets.length][repeats];
        for (MultiLayerNetwork net : nets) {
            Accuracy.predict(net, features);
        }
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < nets.length; k++) {
                long start = System.nanoTime();
                Accuracy.predict(nets[k], features);
                seconds[k][r] = (System.nanoTime() - start) / 1e9;
            }
        }
        double[] rates = new double[nets.length];
        for (int k = 0; k < nets.length; k++) {
            double[] s = seconds[k].clone();
            Arrays.sort(s);
            double median = repeats % 2 == 1 ? s[repeats / 2] : (s[repeats / 2 - 1] + s[repeats / 2]) / 2;
            rates[k] = features.rows() / median;
        }
        return rates;
    }
}
