package dev.distill.core.eval;

import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference throughput of networks on the same examples, measured in one process: the networks
 * take turns (so that a change in machine load hits them alike), after one warm-up pass each, and
 * the median of the repeats is kept. Only the forward passes are timed ({@code output()} on batches
 * of {@value #BATCH}), not the argmax and copying around them, which would hide a smaller network's
 * gain. On a shared machine, compare figures from one call only.
 */
public final class InferenceSpeed {

    /** Examples per forward pass. */
    public static final int BATCH = 256;

    /** Calls of each one-at-a-time predictor before timing. */
    static final int WARM_UP_CALLS = 50_000;

    private InferenceSpeed() {
    }

    /** Examples per second of each network (median over {@code repeats} passes over {@code features}). */
    public static double[] samplesPerSecond(INDArray features, int repeats, MultiLayerNetwork... nets) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be positive, got " + repeats);
        }
        double[][] seconds = new double[nets.length][repeats];
        java.util.List<INDArray> batches = new java.util.ArrayList<>();
        for (long start = 0; start < features.rows(); start += BATCH) {
            batches.add(features.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start,
                    Math.min(features.rows(), start + BATCH)), org.nd4j.linalg.indexing.NDArrayIndex.all()).dup());
        }
        for (MultiLayerNetwork net : nets) {
            forward(net, batches);
        }
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < nets.length; k++) {
                long start = System.nanoTime();
                forward(nets[k], batches);
                seconds[k][r] = (System.nanoTime() - start) / 1e9;
            }
        }
        return rates(seconds, features.rows());
    }

    /**
     * Examples per second of each predictor run on one example at a time (distill-runtime's paths, as a
     * device would call it), in turns, after {@value #WARM_UP_CALLS} warm-up calls each; median of
     * {@code repeats} passes.
     */
    public static double[] oneAtATime(float[][] inputs, int repeats,
            java.util.List<java.util.function.ToIntFunction<float[]>> predictors) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be positive, got " + repeats);
        }
        int sink = 0;
        // enough calls for the JIT to compile the loops (a few hundred examples would time the interpreter)
        for (java.util.function.ToIntFunction<float[]> p : predictors) {
            for (int calls = 0; calls < WARM_UP_CALLS; calls += inputs.length) {
                for (float[] x : inputs) {
                    sink += p.applyAsInt(x);
                }
            }
        }
        double[][] seconds = new double[predictors.size()][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < predictors.size(); k++) {
                java.util.function.ToIntFunction<float[]> p = predictors.get(k);
                long start = System.nanoTime();
                for (float[] x : inputs) {
                    sink += p.applyAsInt(x);
                }
                seconds[k][r] = (System.nanoTime() - start) / 1e9;
            }
        }
        // the predictions' sum is used, so the JIT cannot drop the calls
        if (sink == Integer.MIN_VALUE) {
            System.out.print("");
        }
        return rates(seconds, inputs.length);
    }

    /** Examples per second from each row of pass times: examples over the median pass. */
    private static double[] rates(double[][] seconds, long examples) {
        double[] rates = new double[seconds.length];
        for (int k = 0; k < seconds.length; k++) {
            double[] s = seconds[k].clone();
            Arrays.sort(s);
            int repeats = s.length;
            double median = repeats % 2 == 1 ? s[repeats / 2] : (s[repeats / 2 - 1] + s[repeats / 2]) / 2;
            rates[k] = examples / median;
        }
        return rates;
    }

    private static void forward(MultiLayerNetwork net, java.util.List<INDArray> batches) {
        for (INDArray batch : batches) {
            net.output(batch, false);
        }
    }
}
