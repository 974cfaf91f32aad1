package dev.distill.core.eval;

import dev.distill.core.data.LabeledData;
import dev.distill.models.network.Network;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Predictions and accuracy of a classifier on labelled data. Computed from {@code output()} and
 * argmax rather than DL4J's {@code Evaluation}, which rejects the wide labels of distillation.
 */
public final class Accuracy {

    /** Rows per forward pass: bounds memory for large test sets. */
    private static final int BATCH = 1024;

    private Accuracy() {
    }

    /** Predicted class of every example, in inference mode (dropout off, batch-norm running stats). */
    public static int[] predict(MultiLayerNetwork net, INDArray features) {
        return predict(Network.of(net), features);
    }

    /** As {@link #predict(MultiLayerNetwork, INDArray)}, for either kind of network. */
    public static int[] predict(Network net, INDArray features) {
        long n = features.rows();
        int[] predictions = new int[(int) n];
        for (long start = 0; start < n; start += BATCH) {
            long end = Math.min(n, start + BATCH);
            INDArray batch = features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
            INDArray argmax = net.output(batch).argMax(1);
            for (long i = start; i < end; i++) {
                predictions[(int) i] = argmax.getInt((int) (i - start));
            }
        }
        return predictions;
    }

    /** Fraction of examples whose predicted class is the label, in [0, 1]. */
    public static double of(MultiLayerNetwork net, LabeledData data) {
        return of(predict(net, data.features()), data.labels());
    }

    /** As {@link #of(MultiLayerNetwork, LabeledData)}, for either kind of network. */
    public static double of(Network net, LabeledData data) {
        return of(predict(net, data.features()), data.labels());
    }

    /** Fraction of predictions equal to their label, in [0, 1]; NaN when there are none. */
    public static double of(int[] predictions, int[] labels) {
        if (predictions.length != labels.length) {
            throw new IllegalArgumentException(predictions.length + " predictions for " + labels.length + " labels");
        }
        int correct = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == labels[i]) {
                correct++;
            }
        }
        return predictions.length == 0 ? Double.NaN : (double) correct / predictions.length;
    }
}
