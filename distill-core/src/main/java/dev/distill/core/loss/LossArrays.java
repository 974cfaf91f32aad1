package dev.distill.core.loss;

import dev.distill.models.nd4j.JavaArrays;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the distillation losses share: their label layout check, the bulk copy of a batch into plain
 * arrays, a stable softmax, per-example masks, and the per-batch result handed back to DL4J.
 */
final class LossArrays {

    private LossArrays() {
    }

    /** Per-example losses and the gradient with respect to the logits, of one batch. */
    record Evaluation(double[] perExample, double[] gradientRowMajor, int n, int classes, DataType type) {

        INDArray scores() {
            return Nd4j.create(perExample, new long[] {n, 1}, 'c').castTo(type);
        }

        double score(boolean average) {
            double sum = 0;
            for (double v : perExample) {
                sum += v;
            }
            return average ? sum / perExample.length : sum;
        }

        INDArray gradient() {
            if (type == DataType.FLOAT) {
                // rounded as ND4J's cast from double rounds, without a double array and a cast op in between
                float[] values = new float[gradientRowMajor.length];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) gradientRowMajor[i];
                }
                return Nd4j.create(values, new long[] {n, classes}, 'c');
            }
            return Nd4j.create(gradientRowMajor, new long[] {n, classes}, 'c').castTo(type);
        }
    }

    /**
     * The number of classes, after checking that {@code labels} are {@code [one-hot | teacher logits]}:
     * twice as wide as the output.
     */
    static int checkWideLabels(String loss, INDArray labels, INDArray preOutput) {
        int classes = (int) preOutput.size(1);
        if (labels.size(1) != 2L * classes) {
            throw new IllegalArgumentException(loss + " needs labels [one-hot | teacher logits], "
                    + 2 * classes + " columns wide for " + classes + " classes; got " + labels.size(1));
        }
        return classes;
    }

    /**
     * The values of a matrix in row-major order, copied in bulk: {@code INDArray.toDoubleMatrix()} reads
     * element by element and took 16 ms for a [128, 10] batch, a hundred times the whole training step. A float
     * matrix is read without ND4J's copy ({@link JavaArrays}) and widened here.
     */
    static double[] rowMajor(INDArray matrix) {
        if (matrix.dataType() == DataType.FLOAT) {
            float[] values = JavaArrays.read(matrix, null, Math.toIntExact(matrix.length()));
            double[] wide = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                wide[i] = values[i];
            }
            return wide;
        }
        return matrix.dup('c').data().asDouble();
    }

    /**
     * Writes softmax(x) into {@code probabilities} and returns log(sum(exp(x))), shifted by the maximum
     * so that large logits do not overflow.
     */
    static double softmax(double[] x, double[] probabilities) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int j = 0; j < x.length; j++) {
            probabilities[j] = Math.exp(x[j] - max);
            sum += probabilities[j];
        }
        for (int j = 0; j < x.length; j++) {
            probabilities[j] /= sum;
        }
        return max + Math.log(sum);
    }

    /** A per-example mask as {@code [n, 1]} of the output's type; other mask shapes are refused. */
    static INDArray exampleMask(INDArray mask, INDArray like) {
        if (mask.size(0) != like.size(0) || (mask.rank() == 2 && mask.size(1) != 1)) {
            throw new IllegalArgumentException("distillation losses support per-example masks [n, 1] only, got "
                    + Arrays.toString(mask.shape()));
        }
        return mask.reshape(mask.size(0), 1).castTo(like.dataType());
    }
}
