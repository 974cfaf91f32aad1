package dev.distill.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Runs an exported model in ONNX Runtime exactly as a user would: bytes in, named outputs out. */
public final class OrtRun {

    private OrtRun() {
    }

    /** Output {@code output} of the model {@code onnx} for {@code features} {@code [n, d]}, one thread. */
    public static INDArray run(byte[] onnx, INDArray features, String output) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(onnx, options);
                    OnnxTensor x = OnnxTensor.createTensor(env,
                            FloatBuffer.wrap(OnnxTeacher.rowMajor(features)),
                            features.shape());
                    OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, x), java.util.Set.of(output))) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                FloatBuffer buffer = out.getFloatBuffer();
                float[] values = new float[buffer.remaining()];
                buffer.get(values);
                return Nd4j.createFromArray(values).reshape(out.getInfo().getShape());
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime: " + e.getMessage(), e);
        }
    }
}
