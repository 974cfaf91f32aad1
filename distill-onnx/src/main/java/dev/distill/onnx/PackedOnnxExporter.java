package dev.distill.onnx;

import dev.distill.core.DistillException;
import dev.distill.onnx.OnnxGraph.Attr;
import dev.distill.runtime.ActivationFunction;
import dev.distill.runtime.ModelDescription;
import dev.distill.runtime.Op;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.runtime.Window;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import onnx.Onnx.ModelProto;

/**
 * Writes a packed model (format 3: distill-runtime's {@link ModelDescription}, no DL4J network) as an
 * ONNX model that computes what the runtime's float path computes, op by op, with the same contract as
 * {@link OnnxExporter}: input {@value OnnxExporter#INPUT} float {@code [batch, c·h·w]} already
 * preprocessed, outputs {@value OnnxExporter#PROBABILITIES} and {@value OnnxExporter#LOGITS}.
 *
 * <p>Weights: linear codes of at most 8 bits (the int8 scheme) are int8 initializers behind a
 * DequantizeLinear with the tensor's per-channel scales and zero points (QDQ on the weights only: the
 * activations stay float, so ONNX Runtime computes the runtime's float path on the dequantized weights,
 * not its integer path); pruned positions are written as the zero point's code, exactly zero once
 * dequantized. K-means, binary and wider linear codes are written as their dequantized floats.
 *
 * <p>Graphs (the zoo's residual, concat, group-convolution and shuffle blocks): an op reading other values
 * than the one before it reads those ONNX tensors; add is Add (Sum for more than two), concat is Concat of
 * the channels in input order, a channel subset is a Slice along the channel axis.
 *
 * <p>Layout: the runtime flattens (c, h, w) in that order and keeps dense weights [in, out], conv
 * weights [out, in, kh, kw] (ONNX's layout) and depthwise weights [kh, kw, in, multiplier], output
 * channel c × multiplier + m, which is ONNX's grouped Conv (group = in) on weights
 * [in × multiplier, 1, kh, kw]. Padding is written out per side as the runtime pads (same mode: the odd
 * row or column at the bottom or right), pooling's divisor counts the padding as the runtime does.
 */
public final class PackedOnnxExporter {

    /** Metadata: what is added to raw values after the scale, when the data has a shift. */
    public static final String META_SHIFT = "distill.input_shift";
    /** Metadata: per-feature factors applied after scale and shift (data.normalize), comma-separated. */
    public static final String META_FEATURE_SCALES = "distill.feature_scales";
    /** Metadata: per-feature offsets added after {@link #META_FEATURE_SCALES}, comma-separated. */
    public static final String META_FEATURE_SHIFTS = "distill.feature_shifts";
    /** Metadata: the class names, one a line, when the data has them. */
    public static final String META_CLASS_NAMES = "distill.class_names";

    private PackedOnnxExporter() {
    }

    /**
     * The preprocessing and input layout of {@code model} as ONNX metadata: {@link OnnxExporter#META_SCALE},
     * {@link #META_SHIFT} (when not 0), {@link OnnxExporter#META_INPUT} and {@link #META_CLASS_NAMES}
     * (when the model has class names).
     */
    public static Map<String, String> metadata(ModelDescription model) {
        Map<String, String> m = new LinkedHashMap<>();
        Preprocessing p = model.preprocessing();
        // the float the runtime multiplies by, printed so that parsing it gives that float back
        m.put(OnnxExporter.META_SCALE, Float.toString(p.scale()));
        if (p.shift() != 0) {
            m.put(META_SHIFT, Float.toString(p.shift()));
        }
        m.putAll(featureMetadata(p));
        int[] s = model.inputShape();
        m.put(OnnxExporter.META_INPUT, s[1] == 1 && s[2] == 1 ? "flat " + s[0]
                : String.format(Locale.ROOT, "image %dx%dx%d (channels x height x width), flattened channels first",
                        s[0], s[1], s[2]));
        if (!model.classNames().isEmpty()) {
            m.put(META_CLASS_NAMES, String.join("\n", model.classNames()));
        }
        return m;
    }

    /**
     * {@link #META_FEATURE_SCALES} and {@link #META_FEATURE_SHIFTS} of a per-feature preprocessing (each
     * float printed so that parsing it gives that float back); empty when there is none.
     */
    public static Map<String, String> featureMetadata(Preprocessing p) {
        Map<String, String> m = new LinkedHashMap<>();
        if (p.perFeature()) {
            m.put(META_FEATURE_SCALES, floats(p.featureScales()));
            m.put(META_FEATURE_SHIFTS, floats(p.featureShifts()));
        }
        return m;
    }

    private static String floats(float[] values) {
        StringBuilder b = new StringBuilder();
        for (float v : values) {
            b.append(b.length() == 0 ? "" : ",").append(Float.toString(v));
        }
        return b.toString();
    }

    /** The ONNX model of {@code model} with {@code metadata} as its metadata_props (see {@link #metadata}). */
    public static ModelProto export(ModelDescription model, Map<String, String> metadata) {
        Builder b = new Builder(model);
        b.ops(model.ops());
        return b.g.model(metadata);
    }

    /** A value between ops: its ONNX tensor, (c, h, w) as the runtime sees it, and whether the tensor is NCHW. */
    private record Value(String name, int c, int h, int w, boolean image) {
    }

    /** One export: the graph and the tensor flowing between ops with its shape. */
    private static final class Builder {
        final OnnxGraph g = new OnnxGraph("distill");
        /** The current tensor, and its (c, h, w) as the runtime sees it. */
        String x = OnnxExporter.INPUT;
        int c;
        int h;
        int w;
        /** Whether {@link #x} is [batch, c, h, w] (else [batch, c·h·w]). */
        boolean image;
        /** The input of the current op's softmax, if it ends in one: the logits when it is the last op. */
        String beforeSoftmax;
        /** Every value so far: 0 the input, k + 1 op k's output (what an op's inputs name). */
        final List<Value> values = new ArrayList<>();

        Builder(ModelDescription model) {
            int[] s = model.inputShape();
            c = s[0];
            h = s[1];
            w = s[2];
            g.input(OnnxExporter.INPUT, (long) c * h * w);
        }

        void ops(List<Op> ops) {
            if (ops.isEmpty()) {
                throw new DistillException("ONNX export: the packed model has no ops");
            }
            values.add(current());
            for (int i = 0; i < ops.size(); i++) {
                beforeSoftmax = null;
                Op op = ops.get(i);
                int[] inputs = op.inputs() != null ? op.inputs() : new int[] {i};
                String name = "op" + i;
                if (op.kind() == Op.Kind.ADD || op.kind() == Op.Kind.CONCAT) {
                    join(op.kind() == Op.Kind.ADD, inputs, name);
                } else {
                    use(values.get(inputs[0]));
                    op(op, name);
                }
                values.add(current());
            }
            String logits = beforeSoftmax;
            flat();
            if (logits == null) {
                // the last op ends in no softmax: its output is its own logits
                logits = x;
            } else if (!logits.equals(x)) {
                logits = g.node("Flatten", g.fresh("logits_flatten"), new Attr[] {Attr.integer("axis", 1)}, logits);
            }
            g.outputs(x, logits, (long) c * h * w);
        }

        void op(Op op, String name) {
            switch (op.kind()) {
                case DENSE:
                    activated(op, dense(op, name), name);
                    return;
                case CONV2D:
                    activated(op, conv(op, name), name);
                    return;
                case DEPTHWISE_CONV2D:
                    activated(op, depthwise(op, name), name);
                    return;
                case MAX_POOL:
                case AVG_POOL:
                    pool(op, name);
                    return;
                case GLOBAL_AVG_POOL:
                case GLOBAL_MAX_POOL:
                    toImage(name);
                    x = g.node(op.kind() == Op.Kind.GLOBAL_MAX_POOL ? "GlobalMaxPool" : "GlobalAveragePool",
                            g.fresh(name + "/pool"), x);
                    h = 1;
                    w = 1;
                    return;
                case SCALE_SHIFT:
                    scaleShift(op, name);
                    return;
                case ACTIVATION:
                    activated(op, x, name);
                    return;
                case SUBSET:
                    // channels [from, to] of (c, h, w): a slice along axis 1 of NCHW, or of [batch, c] when flat
                    if (h * w > 1) {
                        toImage(name);
                    }
                    x = g.node("Slice", g.fresh(name), x, g.longs(name + "/starts", op.subsetFrom()),
                            g.longs(name + "/ends", op.subsetTo() + 1L), g.longs(name + "/axes", 1));
                    c = op.subsetTo() - op.subsetFrom() + 1;
                    return;
                default:
                    throw new DistillException("ONNX export: " + name + ": no ONNX ops for " + op);
            }
        }

        /**
         * The sum (Add, or Sum of more than two) or the channels stacked in input order (Concat along axis
         * 1) of the values {@code inputs}, all brought to one form first: images unless they are flat.
         */
        void join(boolean add, int[] inputs, String name) {
            String[] names = new String[inputs.length];
            int channels = 0;
            boolean images = false;
            for (int v : inputs) {
                Value value = values.get(v);
                images |= value.h * value.w > 1;
            }
            for (int k = 0; k < inputs.length; k++) {
                use(values.get(inputs[k]));
                if (images) {
                    toImage(name + "/in" + k);
                } else {
                    flat();
                }
                names[k] = x;
                channels += c;
            }
            if (add) {
                x = g.node(names.length == 2 ? "Add" : "Sum", g.fresh(name + "/add"), names);
            } else {
                x = g.node("Concat", g.fresh(name + "/concat"), new Attr[] {Attr.integer("axis", 1)}, names);
                c = channels;
            }
        }

        Value current() {
            return new Value(x, c, h, w, image);
        }

        void use(Value v) {
            x = v.name;
            c = v.c;
            h = v.h;
            w = v.w;
            image = v.image;
        }

        /** Applies the op's activation to {@code y}, which becomes the current tensor; notes a softmax's input. */
        void activated(Op op, String y, String name) {
            ActivationFunction f = op.activationFunction();
            x = y;
            if (f == ActivationFunction.SOFTMAX && image && h * w > 1) {
                // the runtime's softmax runs over all c·h·w values of the example: flattened, then back
                flat();
                beforeSoftmax = x;
                x = g.activation(f, op.alpha(), x, name);
                toImage(name);
                return;
            }
            if (f == ActivationFunction.SOFTMAX) {
                beforeSoftmax = y;
            }
            x = g.activation(f, op.alpha(), y, name);
        }

        /** Linear int8 codes behind a DequantizeLinear, any other encoding as its decoded floats; same layout. */
        String weights(String name, QuantizedTensor t) {
            return OnnxGraph.int8(t) ? g.dequantized(name, t) : g.floats(name, t.dequantize(), t.shape());
        }

        String dense(Op op, String name) {
            flat();
            QuantizedTensor wt = op.weights();
            // the runtime's dense weights are [in, out] (x W + b): MatMul or Gemm without transposes
            String weights = weights(name + "/W", wt);
            int out = (int) wt.shape()[1];
            c = out;
            h = 1;
            w = 1;
            if (op.bias() == null) {
                return g.node("MatMul", g.fresh(name + "/matmul"), x, weights);
            }
            return g.node("Gemm", g.fresh(name + "/gemm"), x, weights, g.floats(name + "/b", op.bias().dequantize(), out));
        }

        String conv(Op op, String name) {
            toImage(name);
            QuantizedTensor wt = op.weights();
            return convNode(op, name, 1, (int) wt.shape()[0], weights(name + "/W", wt));
        }

        /**
         * The runtime's depthwise weights [kh, kw, in, multiplier] as ONNX's grouped Conv weights
         * [in × multiplier, 1, kh, kw] (output channel c × multiplier + m reads input channel c); int8 codes
         * are moved the same way, their scales and zero points repeated per output channel.
         */
        String depthwise(Op op, String name) {
            toImage(name);
            QuantizedTensor wt = op.weights();
            long[] s = wt.shape();
            int kh = (int) s[0];
            int kw = (int) s[1];
            int channels = (int) s[2];
            int mult = (int) s[3];
            int outputs = channels * mult;
            long[] onnxShape = {outputs, 1, kh, kw};
            // ONNX's flat index of the runtime's flat index i
            int[] to = new int[wt.size()];
            for (int y = 0; y < kh; y++) {
                for (int xx = 0; xx < kw; xx++) {
                    for (int ch = 0; ch < channels; ch++) {
                        for (int m = 0; m < mult; m++) {
                            to[((y * kw + xx) * channels + ch) * mult + m] = ((ch * mult + m) * kh + y) * kw + xx;
                        }
                    }
                }
            }
            String weights;
            if (OnnxGraph.int8(wt)) {
                int[] codes = new int[wt.size()];
                for (int i = 0; i < codes.length; i++) {
                    codes[to[i]] = wt.zeroPoints()[wt.channelOf(i)];
                }
                for (int k = 0; k < wt.codes().length; k++) {
                    codes[to[wt.position(k)]] = wt.codes()[k];
                }
                QuantizedTensor moved;
                if (wt.channelAxis() < 0) {
                    moved = new QuantizedTensor(wt.key(), onnxShape, QuantizedTensor.Kind.LINEAR, wt.bits(), -1,
                            wt.scales(), wt.zeroPoints(), null, null, codes, null);
                } else {
                    // each output channel reads one (c, m), so one scale of the stored axis per output channel
                    float[] scales = new float[outputs];
                    int[] zeroPoints = new int[outputs];
                    for (int i = 0; i < to.length; i++) {
                        int o = to[i] / (kh * kw);
                        scales[o] = wt.scales()[wt.channelOf(i)];
                        zeroPoints[o] = wt.zeroPoints()[wt.channelOf(i)];
                    }
                    moved = new QuantizedTensor(wt.key(), onnxShape, QuantizedTensor.Kind.LINEAR, wt.bits(), 0,
                            scales, zeroPoints, null, null, codes, null);
                }
                weights = g.dequantized(name + "/W", moved);
            } else {
                float[] v = wt.dequantize();
                float[] moved = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    moved[to[i]] = v[i];
                }
                weights = g.floats(name + "/W", moved, onnxShape);
            }
            return convNode(op, name, channels, outputs, weights);
        }

        String convNode(Op op, String name, int group, int outputs, String weights) {
            Window win = op.window();
            Attr[] attrs = windowAttrs(win, Attr.integer("group", group),
                    Attr.ints("dilations", win.dilationH(), win.dilationW()));
            long outH = win.outputHeight(h);
            long outW = win.outputWidth(w);
            String[] in = op.bias() == null ? new String[] {x, weights}
                    : new String[] {x, weights, g.floats(name + "/b", op.bias().dequantize(), outputs)};
            String y = g.node("Conv", g.fresh(name + "/conv"), attrs, in);
            c = outputs;
            h = (int) outH;
            w = (int) outW;
            return y;
        }

        /** Kernel, strides and the runtime's padding per side (ONNX: top, left, bottom, right), then {@code more}. */
        Attr[] windowAttrs(Window win, Attr... more) {
            int[] p = win.padding(h, w);
            Attr[] attrs = new Attr[3 + more.length];
            attrs[0] = Attr.ints("kernel_shape", win.kernelH(), win.kernelW());
            attrs[1] = Attr.ints("strides", win.strideH(), win.strideW());
            attrs[2] = Attr.ints("pads", p[0], p[1], p[2], p[3]);
            System.arraycopy(more, 0, attrs, 3, more.length);
            return attrs;
        }

        void pool(Op op, String name) {
            toImage(name);
            Window win = op.window();
            long outH = win.outputHeight(h);
            long outW = win.outputWidth(w);
            if (op.kind() == Op.Kind.MAX_POOL) {
                // padding never wins a max: ONNX's MaxPool, like the runtime, skips it
                x = g.node("MaxPool", g.fresh(name), windowAttrs(win,
                        Attr.ints("dilations", win.dilationH(), win.dilationW())), x);
            } else {
                if (win.dilationH() != 1 || win.dilationW() != 1) {
                    throw new DistillException("ONNX export: " + name + ": no ONNX ops for dilated average pooling");
                }
                // the runtime divides by kh × kw whatever the padding: ONNX's count_include_pad
                x = g.node("AveragePool", g.fresh(name), windowAttrs(win, Attr.integer("count_include_pad", 1)), x);
            }
            h = (int) outH;
            w = (int) outW;
        }

        /** x × scale[c] + shift[c] per channel (a batch norm the packed writer did not fold). */
        void scaleShift(Op op, String name) {
            long[] shape = image ? new long[] {c, 1, 1} : new long[] {c};
            if (!image && h * w > 1) {
                toImage(name);
                shape = new long[] {c, 1, 1};
            }
            String scaled = g.node("Mul", g.fresh(name + "/scale"), x, g.floats(name + "/scale_c", op.scale(), shape));
            x = g.node("Add", g.fresh(name + "/shift"), scaled, g.floats(name + "/shift_c", op.shift(), shape));
        }

        /** The current tensor as [batch, c, h, w] (the runtime reads a flat vector as (c, h, w)). */
        void toImage(String name) {
            if (!image) {
                x = g.node("Reshape", g.fresh(name + "/to_image"), x, g.longs(name + "/image_shape", -1, c, h, w));
                image = true;
            }
        }

        /** The current tensor as [batch, c·h·w]: ONNX's Flatten reads NCHW in (c, h, w) order, as the runtime does. */
        void flat() {
            if (image) {
                x = g.node("Flatten", g.fresh("flatten"), new Attr[] {Attr.integer("axis", 1)}, x);
                image = false;
            }
        }
    }
}
