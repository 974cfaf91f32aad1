package dev.distill.onnx;

import dev.distill.models.network.Network;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How closely an exported model, run by ONNX Runtime, reproduces the model it came from on the same
 * examples: the fraction of examples given the same class, and the largest absolute difference between
 * any two probabilities.
 */
public record OnnxAgreement(long examples, double sameClass, double maxProbabilityDifference) {

    /** Runs {@code net} (DL4J, inference mode) and {@code onnx} (ONNX Runtime) on {@code features}. */
    public static OnnxAgreement measure(Network net, byte[] onnx, INDArray features, int threads) {
        return compare(net.output(features), OrtRun.run(onnx, features, OnnxExporter.PROBABILITIES, threads));
    }

    /**
     * Runs a packed model on distill-runtime's float path and {@code onnx} (ONNX Runtime) on
     * {@code features} (preprocessed, one example a row). The float path, because it is what the export
     * computes: an int8 model's weights dequantized, its activations in float.
     */
    public static OnnxAgreement measure(Model packed, byte[] onnx, INDArray features, int threads) {
        Model floats = packed.withPrecision(Precision.FLOAT32);
        float[][] rows = new float[(int) features.rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = floats.predictPreprocessed(features.getRow(i).toFloatVector());
        }
        INDArray reference = rows.length == 0 ? Nd4j.create(0, floats.outputSize()) : Nd4j.createFromArray(rows);
        return compare(reference, OrtRun.run(onnx, features, OnnxExporter.PROBABILITIES, threads));
    }

    private static OnnxAgreement compare(INDArray reference, INDArray ort) {
        int[] a = reference.argMax(1).toIntVector();
        int[] b = ort.argMax(1).toIntVector();
        long same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        double diff = reference.castTo(ort.dataType()).sub(ort).amaxNumber().doubleValue();
        return new OnnxAgreement(a.length, a.length == 0 ? 1 : (double) same / a.length, diff);
    }
}
