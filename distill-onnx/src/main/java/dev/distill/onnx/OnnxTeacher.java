package dev.distill.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.distill.core.DistillException;
import dev.distill.models.spec.InputShape;
import dev.distill.onnx.OnnxTeacherSpec.Layout;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A frozen ONNX model run by ONNX Runtime, giving logits for distill's data. {@link #open} checks
 * everything a run needs before anything is written: the file loads (ONNX Runtime can run every op),
 * its input takes the data in the declared layout, the chosen output has one value per class, and a
 * few examples give finite numbers. Each failure is one {@link DistillException} line naming the file.
 */
public final class OnnxTeacher implements AutoCloseable {

    /** Examples per ONNX Runtime call: large enough to amortise the call, small enough for any model here. */
    private static final int BATCH = 256;
    /** Examples run once at open to catch NaN and wrong output shapes. */
    private static final int PROBE = 8;

    private final OnnxTeacherSpec spec;
    /** The spec's layout, or the one the model's input rank implies. */
    private final Layout layout;
    private final InputShape input;
    private final int classes;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;
    private final String outputName;
    private final OnnxWeights weights;
    private final long fileBytes;

    private OnnxTeacher(OnnxTeacherSpec spec, Layout layout, InputShape input, int classes, OrtEnvironment env, OrtSession session,
            String inputName, String outputName, OnnxWeights weights, long fileBytes) {
        this.spec = spec;
        this.layout = layout;
        this.input = input;
        this.classes = classes;
        this.env = env;
        this.session = session;
        this.inputName = inputName;
        this.outputName = outputName;
        this.weights = weights;
        this.fileBytes = fileBytes;
    }

    /**
     * Loads and checks the model for data of shape {@code input} with {@code classes} classes;
     * {@code probe} (a few real examples, {@code [n, input.size()]}) is run once to check the output.
     *
     * @param threads ONNX Runtime's intra-op threads (1 on a shared machine)
     */
    public static OnnxTeacher open(OnnxTeacherSpec spec, InputShape input, int classes, INDArray probe, int threads) {
        String file = spec.file().toString();
        if (!Files.isRegularFile(spec.file())) {
            throw new DistillException(file + ": ONNX model file not found");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(spec.file());
        } catch (IOException e) {
            throw new DistillException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (spec.layout() != null && spec.layout() != Layout.FLAT && !input.image()) {
            throw new DistillException(file + ": layout " + name(spec.layout()) + " needs image data, but the data is "
                    + input + "; use layout: flat");
        }
        if (!spec.mean().isEmpty() && spec.mean().size() != 1 && spec.mean().size() != input.channels()) {
            throw new DistillException(file + ": mean and std have " + spec.mean().size() + " values, but the data has "
                    + input.channels() + " channel(s); give 1 or " + input.channels());
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            session = env.createSession(bytes, options);
        } catch (OrtException e) {
            throw new DistillException(file + ": ONNX Runtime cannot load it as an ONNX model (" + firstLine(e) + ")", e);
        }
        try {
            OnnxTeacher teacher = checked(spec, input, classes, env, session, bytes);
            teacher.probe(probe);
            return teacher;
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    private static OnnxTeacher checked(OnnxTeacherSpec spec, InputShape input, int classes, OrtEnvironment env,
            OrtSession session, byte[] bytes) {
        String file = spec.file().toString();
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            if (inputs.size() != 1) {
                throw new DistillException(file + ": the model has " + inputs.size() + " inputs " + inputs.keySet()
                        + "; a teacher takes one");
            }
            NodeInfo in = inputs.values().iterator().next();
            long[] shape = tensorShape(file, in);
            Layout layout = spec.layout() != null ? spec.layout()
                    : shape.length == 4 && input.image() ? Layout.NCHW : Layout.FLAT;
            long[] wanted = wantedShape(layout, input);
            if (shape.length != wanted.length || !fits(shape, wanted)) {
                throw new DistillException(file + ": input '" + in.getName() + "' has shape " + dims(shape)
                        + ", but layout " + name(layout) + " gives this data (" + input + ") as " + dims(wanted)
                        + (shape.length != wanted.length ? fittingLayout(shape.length) : ""));
            }
            if (((TensorInfo) in.getInfo()).type != ai.onnxruntime.OnnxJavaType.FLOAT) {
                throw new DistillException(file + ": input '" + in.getName() + "' takes "
                        + ((TensorInfo) in.getInfo()).type + ", distill gives float");
            }
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            String outputName = spec.outputName() == null ? outputs.keySet().iterator().next() : spec.outputName();
            NodeInfo out = outputs.get(outputName);
            if (out == null) {
                throw new DistillException(file + ": no output named '" + outputName + "'; it has " + outputs.keySet());
            }
            long[] outShape = tensorShape(file, out);
            if (outShape.length != 2 || (outShape[1] >= 0 && outShape[1] != classes)) {
                throw new DistillException(file + ": output '" + outputName + "' has shape " + dims(outShape)
                        + ", but the data has " + classes + " classes: a teacher outputs [N, " + classes + "]");
            }
            return new OnnxTeacher(spec, layout, input, classes, env, session, in.getName(), outputName, OnnxWeights.of(bytes),
                    bytes.length);
        } catch (OrtException e) {
            throw new DistillException(file + ": cannot read the model's inputs and outputs (" + firstLine(e) + ")", e);
        }
    }

    /** Runs a few examples: the output must be [n, classes] and finite. */
    private void probe(INDArray probe) {
        long n = Math.min(PROBE, probe.rows());
        INDArray logits = logits(probe.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()));
        if (logits.columns() != classes) {
            throw new DistillException(spec.file() + ": output '" + outputName + "' gives " + logits.columns()
                    + " values per example, but the data has " + classes + " classes");
        }
        for (float v : rowMajor(logits)) {
            if (!Float.isFinite(v)) {
                throw new DistillException(spec.file() + ": output '" + outputName + "' is not finite (" + v
                        + ") on the data's first " + n + " test examples");
            }
        }
    }

    /**
     * Logits {@code [n, classes]} (float) for distill's examples {@code [n, features]}, in batches;
     * for a probabilities output, their logarithm (clamped at the smallest normal float, so a zero
     * probability gives a large negative number instead of minus infinity).
     */
    public INDArray logits(INDArray features) {
        long n = features.rows();
        INDArray result = Nd4j.create(DataType.FLOAT, n, classes);
        for (long start = 0; start < n; start += BATCH) {
            long end = Math.min(n, start + BATCH);
            INDArray batch = features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
            float[] out = run(batch);
            if (out.length != (end - start) * classes) {
                throw new DistillException(spec.file() + ": output '" + outputName + "' gives " + out.length
                        + " values for " + (end - start) + " examples, expected " + (end - start) * classes);
            }
            if (spec.output() == OnnxTeacherSpec.Output.PROBABILITIES) {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) Math.log(Math.max(out[i], Float.MIN_NORMAL));
                }
            }
            result.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())
                    .assign(Nd4j.createFromArray(out).reshape(end - start, classes));
        }
        return result;
    }

    /** The chosen output for one batch, as ONNX Runtime returns it (row-major). */
    private float[] run(INDArray batch) {
        int rows = (int) batch.rows();
        float[] x = prepare(batch);
        long[] shape = wantedShape(layout, input);
        shape[0] = rows;
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                OrtSession.Result result = session.run(Map.of(inputName, tensor), java.util.Set.of(outputName))) {
            OnnxValue value = result.get(0);
            if (!(value instanceof OnnxTensor t) || ((TensorInfo) t.getInfo()).type != ai.onnxruntime.OnnxJavaType.FLOAT) {
                throw new DistillException(spec.file() + ": output '" + outputName + "' is not a float tensor");
            }
            FloatBuffer buffer = t.getFloatBuffer();
            float[] out = new float[buffer.remaining()];
            buffer.get(out);
            return out;
        } catch (OrtException e) {
            throw new DistillException(spec.file() + ": ONNX Runtime failed on the data (" + firstLine(e) + ")", e);
        }
    }

    /** Scale, normalize per channel and lay out one batch as the model wants it. */
    private float[] prepare(INDArray batch) {
        float[] x = rowMajor(batch);
        int perChannel = input.height() * input.width();
        int size = input.size();
        for (int i = 0; i < x.length; i++) {
            double v = x[i] * spec.scale();
            if (!spec.mean().isEmpty()) {
                int c = spec.mean().size() == 1 ? 0 : (input.image() ? (i % size) / perChannel : 0);
                v = (v - spec.mean().get(c)) / spec.std().get(c);
            }
            x[i] = (float) v;
        }
        if (layout != Layout.NHWC) {
            return x;
        }
        // distill holds images as (c, h, w); NHWC wants (h, w, c)
        float[] nhwc = new float[x.length];
        int channels = input.channels();
        for (int n = 0; n < x.length / size; n++) {
            for (int c = 0; c < channels; c++) {
                for (int p = 0; p < perChannel; p++) {
                    nhwc[n * size + p * channels + c] = x[n * size + c * perChannel + p];
                }
            }
        }
        return nhwc;
    }

    /** The values of {@code a} in row-major order, as float. */
    static float[] rowMajor(INDArray a) {
        return Nd4j.toFlattened('c', a.castTo(DataType.FLOAT)).toFloatVector();
    }

    /** Parameters and non-zero parameters, counted from the model's initializers. */
    public OnnxWeights weights() {
        return weights;
    }

    public long fileBytes() {
        return fileBytes;
    }

    public int classes() {
        return classes;
    }

    public OnnxTeacherSpec spec() {
        return spec;
    }

    @Override
    public void close() {
        closeQuietly(session);
    }

    private static long[] wantedShape(Layout layout, InputShape input) {
        return switch (layout) {
            case FLAT -> new long[] {-1, input.size()};
            case NCHW -> new long[] {-1, input.channels(), input.height(), input.width()};
            case NHWC -> new long[] {-1, input.height(), input.width(), input.channels()};
        };
    }

    /** Fixed dimensions must match; symbolic ones (-1) fit anything; the batch dimension is not checked. */
    private static boolean fits(long[] shape, long[] wanted) {
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] >= 0 && shape[i] != wanted[i]) {
                return false;
            }
        }
        return true;
    }

    private static String fittingLayout(int rank) {
        return switch (rank) {
            case 2 -> "; a rank-2 input needs layout: flat";
            case 4 -> "; a rank-4 input needs layout: nchw or nhwc";
            default -> "; a teacher's input must have rank 2 (flat) or 4 (nchw, nhwc)";
        };
    }

    private static long[] tensorShape(String file, NodeInfo node) {
        if (!(node.getInfo() instanceof TensorInfo t)) {
            throw new DistillException(file + ": '" + node.getName() + "' is not a tensor (" + node.getInfo() + ")");
        }
        return t.getShape();
    }

    private static String dims(long[] shape) {
        return Arrays.toString(Arrays.stream(shape).mapToObj(d -> d < 0 ? "N" : Long.toString(d)).toArray())
                .replace(" ", "");
    }

    private static String name(Layout layout) {
        return layout.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m).trim();
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException ignored) {
            // closing a session that failed its checks: nothing to report beyond the check
        }
    }

    /** The intra-op threads to give ONNX Runtime: {@code OMP_NUM_THREADS} as for ND4J, else 1. */
    public static int threadsFromEnvironment() {
        String omp = System.getenv("OMP_NUM_THREADS");
        try {
            return omp == null ? 1 : Math.max(1, Integer.parseInt(omp.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** The model output the logits come from. */
    public String outputName() {
        return outputName;
    }
}
