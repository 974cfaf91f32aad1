package dev.distill.onnx;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Runs an exported model in ONNX Runtime as a user would: the model's bytes in, a named output out. */
public final class OrtRun {

    private static final int BATCH = 256;

    private OrtRun() {
    }

    /**
     * Output {@code output} of the exported model {@code onnx} for {@code features} {@code [n, d]},
     * fed to its {@value OnnxExporter#INPUT} input in batches, with {@code threads} intra-op threads.
     */
    public static INDArray run(byte[] onnx, INDArray features, String output, int threads) {
        try (OrtModel model = OrtModel.of(onnx, threads)) {
            long n = features.rows();
            INDArray result = null;
            for (long start = 0; start < n; start += BATCH) {
                long end = Math.min(n, start + BATCH);
                INDArray out = model.run(features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()), output);
                if (result == null) {
                    result = Nd4j.create(DataType.FLOAT, n, out.columns());
                }
                result.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(out);
            }
            return result;
        }
    }
}
