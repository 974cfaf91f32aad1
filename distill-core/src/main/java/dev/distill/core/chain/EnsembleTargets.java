package dev.distill.core.chain;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Several teachers' soft targets as one teacher's logits: {@code z = T · log Σ_i w_i · softmax(t_i / T)},
 * so that {@code softmax(z / T)} is exactly the weighted average of the teachers' softened
 * probabilities. Any loss that reads a teacher through {@code softmax(t / T)} (kd, dkd) then distils from
 * the ensemble's average, with no loss of its own and its own gradient check unchanged.
 *
 * <p>Why probabilities and not logits: the average of probabilities is the mixture of the teachers'
 * beliefs, what multi-teacher distillation averages (Hinton et al. 2015 distil an ensemble's averaged
 * predictions; You et al. 2017 average softened outputs); an average of logits is a normalised geometric
 * mean, sharper where the teachers agree, and it mixes the teachers' logit scales, which differ between a
 * CNN trained here and an ONNX model trained elsewhere. The price is that the targets depend on T: they are
 * combined per link, from each teacher's cached logits, never cached themselves.
 */
public final class EnsembleTargets {

    private EnsembleTargets() {
    }

    /**
     * @param logits  each teacher's logits {@code [n, classes]}, all of one shape
     * @param weights one non-negative weight per teacher, summing to 1
     * @return logits {@code [n, classes]} in float whose softmax at {@code temperature} is the weighted average
     */
    public static INDArray logits(List<INDArray> logits, double[] weights, double temperature) {
        if (logits.size() != weights.length || logits.isEmpty()) {
            throw new IllegalArgumentException(logits.size() + " teachers' logits but " + weights.length + " weights");
        }
        long[] shape = logits.get(0).shape();
        int n = (int) shape[0];
        int classes = (int) shape[1];
        double[][] rows = new double[logits.size()][];
        for (int k = 0; k < rows.length; k++) {
            if (!java.util.Arrays.equals(logits.get(k).shape(), shape)) {
                throw new IllegalArgumentException("teacher " + (k + 1) + "'s logits are "
                        + java.util.Arrays.toString(logits.get(k).shape()) + ", teacher 1's "
                        + java.util.Arrays.toString(shape) + ": the teachers must give the same classes");
            }
            rows[k] = logits.get(k).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        }
        double[] out = new double[n * classes];
        double[] logP = new double[rows.length];
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            // each teacher's log-normaliser at T, so that log softmax(t/T)_j = t_j/T - norm
            double[] norms = new double[rows.length];
            for (int k = 0; k < rows.length; k++) {
                norms[k] = logSumExp(rows[k], row, classes, temperature);
            }
            for (int j = 0; j < classes; j++) {
                // log Σ_k w_k p_kj in log space: a teacher sure of another class must not round p to 0
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < rows.length; k++) {
                    logP[k] = weights[k] > 0 ? Math.log(weights[k]) + rows[k][row + j] / temperature - norms[k]
                            : Double.NEGATIVE_INFINITY;
                    max = Math.max(max, logP[k]);
                }
                double sum = 0;
                for (double v : logP) {
                    sum += Math.exp(v - max);
                }
                out[row + j] = temperature * (max + Math.log(sum));
            }
        }
        return Nd4j.create(out, new long[] {n, classes}, 'c').castTo(DataType.FLOAT);
    }

    private static double logSumExp(double[] x, int from, int count, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            max = Math.max(max, x[from + j] / temperature);
        }
        double sum = 0;
        for (int j = 0; j < count; j++) {
            sum += Math.exp(x[from + j] / temperature - max);
        }
        return max + Math.log(sum);
    }
}
