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

    /** Calls of each one-at-a-time predictor before timing, unless {@link #WARM_UP_SECONDS} ends it first. */
    static final int WARM_UP_CALLS = 50_000;

    /** Longest warm-up of one predictor, in seconds. */
    static final double WARM_UP_SECONDS = 2.0;

    /** Target length of one timed one-at-a-time pass, in seconds. */
    static final double PASS_SECONDS = 0.25;

    /** Fewest examples a one-at-a-time pass times, however slow the predictor. */
    static final int MIN_TIMED_EXAMPLES = 100;

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
     * device would call it), in turns, median of {@code repeats} passes. Each predictor is first warmed up
     * for {@value #WARM_UP_CALLS} calls or {@value #WARM_UP_SECONDS} s, whichever ends first; a pass then
     * times the first examples that take the slowest predictor about {@value #PASS_SECONDS} s (at least
     * {@value #MIN_TIMED_EXAMPLES}, at most all of them), so that a conv student's 10,000 test images do
     * not cost minutes while a dense student's still fill every pass.
     */
    public static OneAtATime oneAtATime(float[][] inputs, int repeats,
            java.util.List<java.util.function.ToIntFunction<float[]>> predictors) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be positive, got " + repeats);
        }
        if (inputs.length == 0) {
            throw new IllegalArgumentException("no examples to time");
        }
        int sink = 0;
        // enough calls for the JIT to compile the loops (a few hundred examples would time the interpreter);
        // a big model's loops are compiled long before its 50,000th call, hence the time bound
        long budget = (long) (WARM_UP_SECONDS * 1e9);
        double slowestCall = 0;
        for (java.util.function.ToIntFunction<float[]> p : predictors) {
            long start = System.nanoTime();
            int calls = 0;
            while (calls < WARM_UP_CALLS && System.nanoTime() - start < budget) {
                sink += p.applyAsInt(inputs[calls++ % inputs.length]);
            }
            // the warm-up's second half, compiled code by then, prices one call
            int half = Math.min(inputs.length, Math.max(1, calls / 2));
            long t = System.nanoTime();
            for (int i = 0; i < half; i++) {
                sink += p.applyAsInt(inputs[i]);
            }
            slowestCall = Math.max(slowestCall, (System.nanoTime() - t) / 1e9 / half);
        }
        int timed = (int) Math.min(inputs.length,
                Math.max(MIN_TIMED_EXAMPLES, Math.ceil(PASS_SECONDS / Math.max(slowestCall, 1e-9))));
        double[][] seconds = new double[predictors.size()][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int k = 0; k < predictors.size(); k++) {
                java.util.function.ToIntFunction<float[]> p = predictors.get(k);
                long start = System.nanoTime();
                for (int i = 0; i < timed; i++) {
                    sink += p.applyAsInt(inputs[i]);
                }
                seconds[k][r] = (System.nanoTime() - start) / 1e9;
            }
        }
        // the predictions' sum is used, so the JIT cannot drop the calls
        if (sink == Integer.MIN_VALUE) {
            System.out.print("");
        }
        return new OneAtATime(rates(seconds, timed), timed);
    }

    /**
     * What {@link #oneAtATime} measured: examples per second of each predictor, in the order given, and how
     * many examples each timed pass ran.
     */
    public record OneAtATime(double[] samplesPerSecond, int examplesTimed) {
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
