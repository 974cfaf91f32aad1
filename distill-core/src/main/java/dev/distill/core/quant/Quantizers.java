package dev.distill.core.quant;

import dev.distill.runtime.QuantizedTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.DoublePoint;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.JDKRandomGenerator;

/**
 * The three ways a weight tensor becomes codes: linear (min-max scale and zero point), k-means weight
 * sharing (Han et al. 2016, Deep Compression) and binary (sign times the mean absolute value, as in
 * XNOR-Net's weight binarisation). Each takes the tensor's values in c order and the positions to
 * store (null: all); values at other positions are zero and stay zero.
 */
public final class Quantizers {

    /** Lloyd iterations of the 1-D k-means after linear initialisation. */
    static final int KMEANS_ITERATIONS = 100;

    private Quantizers() {
    }

    /** Positions of the non-zero values, or null when there is no zero (store everything). */
    public static int[] nonzeroPositions(float[] values) {
        int n = 0;
        for (float v : values) {
            n += v != 0 ? 1 : 0;
        }
        if (n == values.length) {
            return null;
        }
        int[] p = new int[n];
        int k = 0;
        for (int i = 0; i < values.length; i++) {
            if (values[i] != 0) {
                p[k++] = i;
            }
        }
        return p;
    }

    private static int count(int[] positions, float[] values) {
        return positions == null ? values.length : positions.length;
    }

    private static int at(int[] positions, int k) {
        return positions == null ? k : positions[k];
    }

    /**
     * Linear quantization. Symmetric: zero point 0, scale = max|v| / (2^(bits−1) − 1), codes in
     * [−(2^(bits−1) − 1), 2^(bits−1) − 1]. Asymmetric: the range [min(v, 0), max(v, 0)] mapped onto all
     * 2^bits codes with an integer zero point, so 0 stays exact. Rounding error at most scale / 2.
     *
     * @param channelAxis −1 for one scale for the tensor, else the axis of output channels
     */
    public static QuantizedTensor linear(String key, float[] values, long[] shape, int channelAxis, int bits,
            boolean symmetric, int[] positions) {
        int channels = channelAxis < 0 ? 1 : (int) shape[channelAxis];
        double[] min = new double[channels];
        double[] max = new double[channels];
        int n = count(positions, values);
        for (int k = 0; k < n; k++) {
            int i = at(positions, k);
            int c = QuantizedTensor.channelOf(shape, channelAxis, i);
            min[c] = Math.min(min[c], values[i]);
            max[c] = Math.max(max[c], values[i]);
        }
        int qmin = -(1 << (bits - 1));
        int qmax = (1 << (bits - 1)) - 1;
        float[] scales = new float[channels];
        int[] zeroPoints = new int[channels];
        for (int c = 0; c < channels; c++) {
            if (symmetric) {
                double m = Math.max(-min[c], max[c]);
                scales[c] = m == 0 ? 1f : (float) (m / qmax);
            } else {
                double range = max[c] - min[c];
                scales[c] = range == 0 ? 1f : (float) (range / (qmax - qmin));
                zeroPoints[c] = (int) clamp(Math.round(qmin - min[c] / scales[c]), qmin, qmax);
            }
        }
        int lo = symmetric ? -qmax : qmin;
        int[] codes = new int[n];
        for (int k = 0; k < n; k++) {
            int i = at(positions, k);
            int c = QuantizedTensor.channelOf(shape, channelAxis, i);
            codes[k] = (int) clamp(Math.round(values[i] / scales[c]) + zeroPoints[c], lo, qmax);
        }
        return new QuantizedTensor(key, shape.clone(), QuantizedTensor.Kind.LINEAR, bits, channelAxis, scales,
                zeroPoints, null, positions == null ? null : positions.clone(), codes, null);
    }

    /**
     * k-means weight sharing: the stored values clustered into k = 2^bits shared values (fewer when
     * there are fewer distinct values). Linear initialisation spreads the first centroids evenly over
     * [min, max], which Deep Compression found best because it keeps the few large weights; then
     * Lloyd's iterations in one dimension. k-means++ uses Commons Math's clusterer, seeded.
     */
    public static QuantizedTensor kmeans(String key, float[] values, long[] shape, int bits, QuantSettings.Init init,
            long seed, int[] positions) {
        int n = count(positions, values);
        int k = 1 << bits;
        double[] points = new double[n];
        for (int j = 0; j < n; j++) {
            points[j] = values[at(positions, j)];
        }
        double[] centroids = init == QuantSettings.Init.LINEAR ? linearInit(points, k) : plusPlus(points, k, seed);
        int[] codes = new int[n];
        lloyd(points, centroids, codes, init == QuantSettings.Init.LINEAR ? KMEANS_ITERATIONS : 1);
        float[] codebook = new float[k];
        for (int c = 0; c < k; c++) {
            codebook[c] = (float) centroids[c];
        }
        return new QuantizedTensor(key, shape.clone(), QuantizedTensor.Kind.KMEANS, bits, -1, null, null, codebook,
                positions == null ? null : positions.clone(), codes, null);
    }

    private static double[] linearInit(double[] points, int k) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double p : points) {
            min = Math.min(min, p);
            max = Math.max(max, p);
        }
        double[] c = new double[k];
        for (int j = 0; j < k; j++) {
            c[j] = points.length == 0 ? 0 : min + (max - min) * j / (k - 1);
        }
        return c;
    }

    private static double[] plusPlus(double[] points, int k, long seed) {
        List<DoublePoint> list = new ArrayList<>(points.length);
        for (double p : points) {
            list.add(new DoublePoint(new double[] {p}));
        }
        long distinct = Arrays.stream(points).distinct().count();
        int clusters = (int) Math.max(1, Math.min(k, distinct));
        double[] c = new double[k];
        if (points.length > 0) {
            JDKRandomGenerator random = new JDKRandomGenerator();
            random.setSeed(seed);
            List<CentroidCluster<DoublePoint>> found = new KMeansPlusPlusClusterer<DoublePoint>(clusters,
                    KMEANS_ITERATIONS, new EuclideanDistance(), random).cluster(list);
            for (int j = 0; j < k; j++) {
                // unused codes repeat the last centroid: harmless, never assigned first
                c[j] = found.get(Math.min(j, found.size() - 1)).getCenter().getPoint()[0];
            }
        }
        Arrays.sort(c);
        return c;
    }

    /** Lloyd's iterations: assign each point its nearest centroid, move centroids to their means. */
    private static void lloyd(double[] points, double[] centroids, int[] codes, int iterations) {
        int k = centroids.length;
        for (int it = 0; it < iterations; it++) {
            boolean changed = assign(points, centroids, codes) || it == 0;
            double[] sum = new double[k];
            int[] count = new int[k];
            for (int j = 0; j < points.length; j++) {
                sum[codes[j]] += points[j];
                count[codes[j]]++;
            }
            for (int c = 0; c < k; c++) {
                if (count[c] > 0) {
                    centroids[c] = sum[c] / count[c];
                }
            }
            if (!changed) {
                break;
            }
        }
        assign(points, centroids, codes);
    }

    private static boolean assign(double[] points, double[] centroids, int[] codes) {
        boolean changed = false;
        for (int j = 0; j < points.length; j++) {
            int best = 0;
            double bestD = Double.POSITIVE_INFINITY;
            for (int c = 0; c < centroids.length; c++) {
                double d = Math.abs(points[j] - centroids[c]);
                if (d < bestD) {
                    bestD = d;
                    best = c;
                }
            }
            changed |= codes[j] != best;
            codes[j] = best;
        }
        return changed;
    }

    /** Binary weights: sign × the channel's (or tensor's) mean absolute stored value. */
    public static QuantizedTensor binary(String key, float[] values, long[] shape, int channelAxis, int[] positions) {
        int channels = channelAxis < 0 ? 1 : (int) shape[channelAxis];
        double[] sum = new double[channels];
        int[] count = new int[channels];
        int n = count(positions, values);
        int[] codes = new int[n];
        for (int k = 0; k < n; k++) {
            int i = at(positions, k);
            int c = QuantizedTensor.channelOf(shape, channelAxis, i);
            sum[c] += Math.abs(values[i]);
            count[c]++;
            codes[k] = values[i] >= 0 ? 1 : 0;
        }
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = count[c] == 0 ? 0f : (float) (sum[c] / count[c]);
        }
        return new QuantizedTensor(key, shape.clone(), QuantizedTensor.Kind.BINARY, 1, channelAxis, scales, null,
                null, positions == null ? null : positions.clone(), codes, null);
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
