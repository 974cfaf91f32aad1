package dev.distill.onnx;

import dev.distill.models.build.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How closely an exported model, run by ONNX Runtime, reproduces the DL4J network it came from on
 * the same examples: the fraction of examples given the same class, and the largest absolute
 * difference between any two probabilities.
 */
public record OnnxAgreement(long examples, double sameClass, double maxProbabilityDifference) {

    /** Runs {@code net} (DL4J, inference mode) and {@code onnx} (ONNX Runtime) on {@code features}. */
    public static OnnxAgreement measure(Network net, byte[] onnx, INDArray features, int threads) {
        INDArray dl4j = net.output(features);
        INDArray ort = OrtRun.run(onnx, features, OnnxExporter.PROBABILITIES, threads);
        int[] a = dl4j.argMax(1).toIntVector();
        int[] b = ort.argMax(1).toIntVector();
        long same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        double diff = dl4j.castTo(ort.dataType()).sub(ort).amaxNumber().doubleValue();
        return new OnnxAgreement(a.length, a.length == 0 ? 1 : (double) same / a.length, diff);
    }
}
