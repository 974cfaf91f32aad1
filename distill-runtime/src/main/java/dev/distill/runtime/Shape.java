package dev.distill.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The shape of the values between two ops: channels, height, width (a flat vector is (n, 1, 1)). */
final class Shape {

    /** The largest value count any op may produce per example (64 MB of floats): above it a file is refused. */
    static final long MAX_VALUES = 1L << 24;

    final int channels;
    final int height;
    final int width;

    Shape(int channels, int height, int width) {
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    int size() {
        return channels * height * width;
    }

    @Override
    public String toString() {
        return height == 1 && width == 1 ? String.valueOf(channels) : channels + "x" + height + "x" + width;
    }

    static Shape checked(long channels, long height, long width, String what) {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(what + ": empty output " + channels + "x" + height + "x" + width);
        }
        if (channels * height * width > MAX_VALUES) {
            throw new IllegalArgumentException(what + ": " + channels + "x" + height + "x" + width
                    + " values per example, more than this runtime runs (" + MAX_VALUES + ")");
        }
        return new Shape((int) channels, (int) height, (int) width);
    }

    /**
     * The shape of each value (index 0 the input, k + 1 op k's output), checking each op's inputs and
     * tensors against what it receives.
     *
     * @throws IllegalArgumentException naming the first op that does not fit
     */
    static List<Shape> infer(ModelDescription model) {
        int[] in = model.inputShape();
        List<Shape> shapes = new ArrayList<>();
        shapes.add(checked(in[0], in[1], in[2], "input"));
        List<Op> ops = model.ops();
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("the model has no ops");
        }
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            String what = "op " + i + " (" + op + ")";
            int[] inputs = op.inputsAt(i);
            boolean joins = op.kind == Op.Kind.ADD || op.kind == Op.Kind.CONCAT;
            if (joins ? inputs.length < 2 : inputs.length != 1) {
                throw new IllegalArgumentException(what + ": " + inputs.length + " inputs");
            }
            Shape[] read = new Shape[inputs.length];
            for (int k = 0; k < inputs.length; k++) {
                if (inputs[k] < 0 || inputs[k] > i) {
                    throw new IllegalArgumentException(what + " reads value " + inputs[k] + ", which is not before it");
                }
                read[k] = shapes.get(inputs[k]);
            }
            shapes.add(joins ? join(op, read, what) : next(op, read[0], what));
        }
        return shapes;
    }

    /** ADD: inputs of one shape; CONCAT: one height and width, channels summed. */
    private static Shape join(Op op, Shape[] in, String what) {
        long channels = 0;
        for (Shape s : in) {
            boolean fits = op.kind == Op.Kind.ADD ? s.channels == in[0].channels && s.height == in[0].height
                    && s.width == in[0].width : s.height == in[0].height && s.width == in[0].width;
            if (!fits) {
                throw new IllegalArgumentException(what + ": inputs " + in[0] + " and " + s + " do not fit");
            }
            channels += s.channels;
        }
        return op.kind == Op.Kind.ADD ? in[0] : checked(channels, in[0].height, in[0].width, what);
    }

    private static Shape next(Op op, Shape in, String what) {
        switch (op.kind) {
            case DENSE: {
                long[] w = op.weights.shape();
                expectRank(w, 2, what);
                if (w[0] != in.size()) {
                    throw new IllegalArgumentException(what + " takes " + w[0] + " inputs but receives " + in);
                }
                checkBias(op, w[1], what);
                return checked(w[1], 1, 1, what);
            }
            case CONV2D: {
                long[] w = op.weights.shape();
                expectRank(w, 4, what);
                checkWindow(op.window, what);
                if (w[1] != in.channels || w[2] != op.window.kernelH || w[3] != op.window.kernelW) {
                    throw new IllegalArgumentException(what + ": weights " + Arrays.toString(w) + " for "
                            + in.channels + " input channels and a " + op.window.kernelH + "x" + op.window.kernelW
                            + " kernel");
                }
                checkBias(op, w[0], what);
                return checked(w[0], op.window.outputHeight(in.height), op.window.outputWidth(in.width), what);
            }
            case DEPTHWISE_CONV2D: {
                long[] w = op.weights.shape();
                expectRank(w, 4, what);
                checkWindow(op.window, what);
                if (w[2] != in.channels || w[0] != op.window.kernelH || w[1] != op.window.kernelW) {
                    throw new IllegalArgumentException(what + ": weights " + Arrays.toString(w) + " for "
                            + in.channels + " input channels and a " + op.window.kernelH + "x" + op.window.kernelW
                            + " kernel");
                }
                checkBias(op, w[2] * w[3], what);
                return checked(w[2] * w[3], op.window.outputHeight(in.height), op.window.outputWidth(in.width),
                        what);
            }
            case MAX_POOL:
            case AVG_POOL: {
                checkWindow(op.window, what);
                Shape out = checked(in.channels, op.window.outputHeight(in.height), op.window.outputWidth(in.width),
                        what);
                if (op.kind == Op.Kind.AVG_POOL && padded(op.window, in, out)) {
                    // which cells count in the divisor at a padded border differs between implementations
                    throw new IllegalArgumentException(what + ": average pooling over padding is not supported");
                }
                return out;
            }
            case GLOBAL_AVG_POOL:
            case GLOBAL_MAX_POOL:
                return new Shape(in.channels, 1, 1);
            case SCALE_SHIFT:
                if (op.scale.length != in.channels || op.shift.length != in.channels) {
                    throw new IllegalArgumentException(what + ": " + op.scale.length + " channels, receives " + in);
                }
                return in;
            case ACTIVATION:
                return in;
            case SUBSET:
                if (op.from < 0 || op.to < op.from || op.to >= in.channels) {
                    throw new IllegalArgumentException(what + ": channels " + op.from + ".." + op.to + " of " + in);
                }
                return new Shape(op.to - op.from + 1, in.height, in.width);
            default:
                throw new IllegalStateException(op.kind.name());
        }
    }

    static boolean padded(Window w, Shape in, Shape out) {
        return w.topPadding(in.height, out.height) > 0 || w.leftPadding(in.width, out.width) > 0
                || (long) (out.height - 1) * w.strideH + (long) (w.kernelH - 1) * w.dilationH + 1
                        > in.height + w.topPadding(in.height, out.height)
                || (long) (out.width - 1) * w.strideW + (long) (w.kernelW - 1) * w.dilationW + 1
                        > in.width + w.leftPadding(in.width, out.width);
    }

    private static void expectRank(long[] shape, int rank, String what) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(what + ": weights of shape " + Arrays.toString(shape) + ", rank "
                    + rank + " expected");
        }
    }

    private static void checkBias(Op op, long outputs, String what) {
        if (op.bias != null && op.bias.size() != outputs) {
            throw new IllegalArgumentException(what + ": " + op.bias.size() + " biases for " + outputs + " outputs");
        }
    }

    private static void checkWindow(Window w, String what) {
        if (w.kernelH < 1 || w.kernelW < 1 || w.strideH < 1 || w.strideW < 1 || w.dilationH < 1 || w.dilationW < 1
                || w.kernelH > 4096 || w.kernelW > 4096 || w.dilationH > 4096 || w.dilationW > 4096
                || w.padH > 4096 || w.padW > 4096) {
            throw new IllegalArgumentException(what + ": impossible window " + w);
        }
    }
}
