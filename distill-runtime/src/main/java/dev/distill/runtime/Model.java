package dev.distill.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A packed distill model, ready to run with nothing but the JDK:
 *
 * <pre>{@code
 * Model model = Model.load(Path.of("student.packed"));
 * int digit = model.classify(pixels);          // raw values, as the data files hold them
 * float[] probabilities = model.predict(pixels);
 * }</pre>
 *
 * <p>{@link #predict} takes the raw values of one example, in the data files' order (an image
 * channels-first, (c, h, w) flattened, as {@link #inputShape()} says), applies the model's
 * {@link #preprocessing()} and returns the network's output: class probabilities for a classifier. A model
 * whose file has calibrated int8 ranges runs its dense and conv layers in integers by default
 * ({@link Precision#INT8}); {@link #withPrecision} picks the other path.
 *
 * <p>Thread safety: a loaded model is immutable; every call allocates its own buffers, so one instance
 * may serve any number of threads at once.
 */
public final class Model {

    private final ModelDescription description;
    private final FloatPath floatPath;
    private final Int8Path int8Path;
    private final Precision precision;
    private final Int8Dot kernel;
    private final int inputSize;
    private final int outputSize;
    private final List<Shape> shapes;

    private Model(ModelDescription description, List<Shape> shapes, FloatPath floatPath, Int8Path int8Path,
            Precision precision, Int8Dot kernel) {
        this.description = description;
        this.shapes = shapes;
        this.floatPath = floatPath;
        this.int8Path = int8Path;
        this.precision = precision;
        this.kernel = kernel;
        this.inputSize = shapes.get(0).size();
        this.outputSize = shapes.get(shapes.size() - 1).size();
    }

    /** Reads and compiles a packed model file. */
    public static Model load(Path file) throws ModelFormatException {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > PackedFormat.MAX_FILE_BYTES) {
                throw new ModelFormatException(file + ": " + size + " bytes, larger than any packed model ("
                        + PackedFormat.MAX_FILE_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read the model file (" + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? ": " + e.getMessage() : "") + ")", e);
        }
        return of(PackedFormat.read(bytes, file.toString()), file.toString());
    }

    /** Reads and compiles a packed model from a stream (e.g. a class-path resource); {@code name} names it in errors. */
    public static Model load(InputStream in, String name) throws ModelFormatException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                if (out.size() > PackedFormat.MAX_FILE_BYTES) {
                    throw new ModelFormatException(name + ": more than " + PackedFormat.MAX_FILE_BYTES
                            + " bytes, larger than any packed model");
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(name + ": cannot read the model (" + e.getMessage() + ")", e);
        }
        return of(PackedFormat.read(out.toByteArray(), name), name);
    }

    /** Compiles a model description ({@code source} names it in errors). */
    public static Model of(ModelDescription description, String source) throws ModelFormatException {
        try {
            List<Shape> shapes = Shape.infer(description);
            FloatPath floats = FloatPath.compile(description, shapes);
            Int8Path ints = Int8Path.compile(description, shapes, Int8Dot.best());
            return new Model(description, List.copyOf(shapes), floats, ints,
                    ints != null ? Precision.INT8 : Precision.FLOAT32, Int8Dot.best());
        } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new ModelFormatException(source + ": the model does not fit together (" + e.getMessage() + ")", e);
        }
    }

    /** The same model on the other path. */
    public Model withPrecision(Precision p) {
        if (p == Precision.INT8 && int8Path == null) {
            throw new IllegalStateException("this model has no int8 path (no int8 weights with calibrated ranges)");
        }
        return p == precision ? this : new Model(description, shapes, floatPath, int8Path, p, kernel);
    }

    /** Whether the model can run on {@code p}. */
    public boolean supports(Precision p) {
        return p == Precision.FLOAT32 || int8Path != null;
    }

    public Precision precision() {
        return precision;
    }

    /** The same model with another inner-product kernel on the int8 path (benchmarks). */
    public Model withInt8Kernel(Int8Dot other) {
        if (int8Path == null) {
            return this;
        }
        return new Model(description, shapes, floatPath, Int8Path.compile(description, shapes, other), precision,
                other);
    }

    /** The int8 path's inner-product kernel: "vector" or "scalar". */
    public String int8Kernel() {
        return kernel.name();
    }

    /** Class probabilities (a classifier's output) for one example's raw values. */
    public float[] predict(float[] raw) {
        checkInput(raw);
        return run(description.preprocessing().apply(raw));
    }

    /** The most probable class (the first of equals) for one example's raw values. */
    public int classify(float[] raw) {
        return argmax(predict(raw));
    }

    /** The output for the network's input itself (preprocessing already applied, as the training data holds it). */
    public float[] predictPreprocessed(float[] input) {
        checkInput(input);
        return run(input);
    }

    /** {@link #classify} for the network's input itself (preprocessing already applied). */
    public int classifyPreprocessed(float[] input) {
        return argmax(predictPreprocessed(input));
    }

    private float[] run(float[] input) {
        return precision == Precision.INT8 ? int8Path.run(input) : floatPath.run(input);
    }

    private void checkInput(float[] x) {
        if (x.length != inputSize) {
            throw new IllegalArgumentException("expected " + inputSize + " input values " + shapeText() + ", got "
                    + x.length);
        }
    }

    private String shapeText() {
        int[] s = description.inputShape();
        return s[1] == 1 && s[2] == 1 ? "" : "(" + s[0] + " channels x " + s[1] + " x " + s[2] + ", channels first)";
    }

    /** The index of the largest value (the first of equals). */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** (channels, height, width) of one example; a flat vector is (features, 1, 1). */
    public int[] inputShape() {
        return description.inputShape();
    }

    /** Values one example has: channels × height × width. */
    public int inputSize() {
        return inputSize;
    }

    public int outputSize() {
        return outputSize;
    }

    /** The class names in output order; empty when the data had none (then the class is its index). */
    public List<String> classNames() {
        return description.classNames();
    }

    public Preprocessing preprocessing() {
        return description.preprocessing();
    }

    /** What the file holds. */
    public ModelDescription description() {
        return description;
    }

    /** The ops, one per line, with the shape each produces: for logs and {@code --verbose}. */
    public String summary() {
        StringBuilder b = new StringBuilder("input " + shapes.get(0));
        List<Op> ops = description.ops();
        boolean[] int8 = Int8Path.int8Ops(ops);
        for (int i = 0; i < ops.size(); i++) {
            b.append(System.lineSeparator()).append(ops.get(i)).append(" -> ").append(shapes.get(i + 1))
                    .append(int8[i] ? " (int8)" : "");
        }
        return b.toString();
    }
}
