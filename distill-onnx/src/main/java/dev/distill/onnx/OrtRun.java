package dev.distill.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.distill.core.DistillException;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Set;
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
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(onnx, options)) {
                long n = features.rows();
                INDArray result = null;
                for (long start = 0; start < n; start += BATCH) {
                    long end = Math.min(n, start + BATCH);
                    INDArray batch = features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
                    try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(OnnxTeacher.rowMajor(batch)),
                                    batch.shape());
                            OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, x), Set.of(output))) {
                        OnnxTensor out = (OnnxTensor) r.get(0);
                        FloatBuffer buffer = out.getFloatBuffer();
                        float[] values = new float[buffer.remaining()];
                        buffer.get(values);
                        long width = values.length / (end - start);
                        if (result == null) {
                            result = Nd4j.create(DataType.FLOAT, n, width);
                        }
                        result.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())
                                .assign(Nd4j.createFromArray(values).reshape(end - start, width));
                    }
                }
                return result;
            }
        } catch (OrtException e) {
            throw new DistillException("ONNX Runtime could not run the exported model: " + e.getMessage(), e);
        }
    }
}
