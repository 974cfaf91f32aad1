package dev.distill.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.distill.core.DistillException;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An exported model open in ONNX Runtime, for calling many times (the round-trip check, bench): one
 * session, one call per {@link #run}.
 */
public final class OrtModel implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    private OrtModel(OrtSession session) {
        this.session = session;
    }

    /** The exported model {@code onnx} with {@code threads} intra-op threads. */
    public static OrtModel of(byte[] onnx, int threads) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            return new OrtModel(OrtEnvironment.getEnvironment().createSession(onnx, options));
        } catch (OrtException e) {
            throw new DistillException("ONNX Runtime could not load the exported model: " + e.getMessage(), e);
        }
    }

    /** Output {@code output} {@code [n, width]} for {@code features} {@code [n, d]} fed to {@value OnnxExporter#INPUT}. */
    public INDArray run(INDArray features, String output) {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(OnnxTeacher.rowMajor(features)),
                        features.shape());
                OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, x), Set.of(output))) {
            OnnxTensor out = (OnnxTensor) r.get(0);
            FloatBuffer buffer = out.getFloatBuffer();
            float[] values = new float[buffer.remaining()];
            buffer.get(values);
            return Nd4j.createFromArray(values).reshape(features.rows(), values.length / features.rows());
        } catch (OrtException e) {
            throw new DistillException("ONNX Runtime could not run the exported model: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // nothing left to release that a failed close could keep
        }
    }
}
