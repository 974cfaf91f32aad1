package dev.distill.core.data;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Examples held in memory: features as a float matrix {@code [n, d]} (images flattened channels
 * first (c, h, w), each channel row-major, already scaled) and integer class labels in {@code [0, numClasses)}.
 *
 * <p>Everything in this project is small enough to sit in memory (Fashion-MNIST: 188 MB), and
 * holding whole arrays lets the trainer gather shuffled batches with one native call.
 */
public record LabeledData(INDArray features, int[] labels, int numClasses) {

    public LabeledData {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        if (features.rank() != 2) {
            throw new IllegalArgumentException("features must be [n, d], got " + Arrays.toString(features.shape()));
        }
        if (features.rows() != labels.length) {
            throw new IllegalArgumentException(
                    "features have " + features.rows() + " rows but there are " + labels.length + " labels");
        }
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be at least 2, got " + numClasses);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(
                        "label " + labels[i] + " of example " + i + " is outside [0, " + numClasses + ")");
            }
        }
    }

    public int size() {
        return labels.length;
    }

    public int featureCount() {
        return (int) features.columns();
    }

    /** The examples at the given positions, in that order (a copy). */
    public LabeledData subset(int[] indices) {
        int[] sub = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            sub[i] = labels[indices[i]];
        }
        INDArray rows = indices.length == 0
                ? Nd4j.create(DataType.FLOAT, 0, features.columns())
                : Nd4j.pullRows(features, 1, indices);
        return new LabeledData(rows, sub, numClasses);
    }

    /** One-hot label matrix {@code [n, numClasses]} in float. */
    public INDArray oneHot() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, labels.length, numClasses);
        for (int i = 0; i < labels.length; i++) {
            y.putScalar(i, labels[i], 1f);
        }
        return y;
    }

    /** Number of examples of each class. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }
}
