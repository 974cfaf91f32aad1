package dev.distill.core.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Ranges of the activations entering each weighted layer, measured on training batches, as 8-bit
 * asymmetric scales and zero points for the integer path: min-max, or a percentile of each side to
 * ignore rare outliers. Every range includes 0, so a zero activation (ReLU's) is exact.
 */
public final class ActivationCalibration {

    /** Codes of activations: signed 8-bit. */
    static final int QMIN = -128;
    static final int QMAX = 127;

    /** The input of DL4J layer {@code layer}: real value = scale × (q − zeroPoint). */
    public record Range(int layer, float scale, int zeroPoint) {

        public int quantize(float x) {
            return (int) Math.max(QMIN, Math.min(QMAX, Math.round(x / scale) + zeroPoint));
        }
    }

    private ActivationCalibration() {
    }

    /**
     * @param batches    batches of {@code batchSize} training examples, from the first
     * @param percentile 100 for min-max; else the lower and upper {@code 100 − p} and {@code p} percentiles
     */
    public static List<Range> measure(MultiLayerNetwork net, INDArray features, int batchSize, int batches,
            double percentile) {
        int n = (int) Math.min(features.rows(), (long) batchSize * batches);
        INDArray x = features.get(NDArrayIndex.interval(0, n), NDArrayIndex.all());
        // feedForward: entry 0 the input, entry i + 1 the output of layer i (after its activation)
        List<INDArray> activations = net.feedForward(x, false);
        List<Range> ranges = new ArrayList<>();
        Layer[] layers = net.getLayers();
        for (int i = 0; i < layers.length; i++) {
            // layers without parameters (pooling, activation, dropout) refuse getParam: ask the table
            if (layers[i].numParams() == 0 || !layers[i].paramTable().containsKey("W")) {
                continue;
            }
            float[] v = activations.get(i).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data()
                    .asFloat();
            ranges.add(range(i, v, percentile));
        }
        return ranges;
    }

    static Range range(int layer, float[] v, double percentile) {
        double lo;
        double hi;
        if (percentile >= 100) {
            lo = Double.POSITIVE_INFINITY;
            hi = Double.NEGATIVE_INFINITY;
            for (float f : v) {
                lo = Math.min(lo, f);
                hi = Math.max(hi, f);
            }
        } else {
            float[] sorted = v.clone();
            Arrays.sort(sorted);
            lo = sorted[(int) Math.floor((100 - percentile) / 100 * (sorted.length - 1))];
            hi = sorted[(int) Math.ceil(percentile / 100 * (sorted.length - 1))];
        }
        lo = Math.min(lo, 0);
        hi = Math.max(hi, 0);
        float scale = hi == lo ? 1f : (float) ((hi - lo) / (QMAX - QMIN));
        int zeroPoint = (int) Math.max(QMIN, Math.min(QMAX, Math.round(QMIN - lo / scale)));
        return new Range(layer, scale, zeroPoint);
    }
}
