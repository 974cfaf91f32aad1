package dev.distill.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * The int8 path: dense and conv ops whose weights are linear codes of 8 bits or fewer and that carry a
 * calibrated input range run in integers. Their input is int8 codes of that range; each output is an
 * int32 accumulator Σ (x − xZero)(w − wZero) plus the bias quantized to the accumulator's scale (Jacob et
 * al. 2018, "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
 * Inference"). When the next op that computes anything is also an int8 op, with only max pooling between
 * (max commutes with a monotone requantization) and an activation the integer domain can express
 * (identity, ReLU, ReLU6 as clamps), the accumulator is requantized straight to that op's input codes by a
 * fixed-point multiplier and a shift; otherwise it becomes float (scale × accumulator) and the activation
 * runs in float. Every other op runs as on the float path. Immutable; each call allocates its own buffers.
 */
final class Int8Path {

    /** Values between ops: float, or int8 codes of {@code range}. */
    static final class Values {
        final float[] floats;
        final byte[] codes;
        final Int8Range range;

        Values(float[] floats) {
            this.floats = floats;
            this.codes = null;
            this.range = null;
        }

        Values(byte[] codes, Int8Range range) {
            this.floats = null;
            this.codes = codes;
            this.range = range;
        }

        float[] asFloats() {
            if (floats != null) {
                return floats;
            }
            float[] f = new float[codes.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = range.scale * (codes[i] - range.zeroPoint);
            }
            return f;
        }

        /** The codes of range {@code r} minus its zero point, as ints (quantizing floats on the way). */
        int[] centered(Int8Range r) {
            int[] c = new int[codes != null ? codes.length : floats.length];
            if (codes != null && r.sameAs(range)) {
                int zero = r.zeroPoint;
                for (int i = 0; i < c.length; i++) {
                    c[i] = codes[i] - zero;
                }
                return c;
            }
            float[] f = asFloats();
            float inverse = 1f / r.scale;
            int zero = r.zeroPoint;
            for (int i = 0; i < c.length; i++) {
                c[i] = code(f[i], inverse, zero) - zero;
            }
            return c;
        }

        /**
         * The {@link #centered} codes that are not zero, each with its position, into {@code listed} as
         * {@link #listed}; returns how many. One array for both, as the float path's list of non-zero inputs:
         * filling a second fresh array per call measured as much as the rounding. A float 0 (the background of
         * an image, the inputs a ReLU zeroed) is not rounded: its code is that of 0, found once.
         */
        int centeredNonzero(Int8Range r, int[] listed) {
            int n = 0;
            if (codes != null && r.sameAs(range)) {
                int zero = r.zeroPoint;
                for (int i = 0; i < codes.length; i++) {
                    int v = codes[i] - zero;
                    if (v != 0) {
                        listed[n++] = listed(i, v);
                    }
                }
                return n;
            }
            float[] f = asFloats();
            float inverse = 1f / r.scale;
            int zero = r.zeroPoint;
            int ofZero = code(0f, inverse, zero) - zero;
            for (int i = 0; i < f.length; i++) {
                int v = f[i] == 0 ? ofZero : code(f[i], inverse, zero) - zero;
                if (v != 0) {
                    listed[n++] = listed(i, v);
                }
            }
            return n;
        }

        /** Positions below this many pack with a centred code into one int ({@link #listed}). */
        static final int MAX_LISTED_POSITIONS = 1 << 21;

        /** Position {@code i} and centred code {@code v} (in [−255, 255]) as one int: i · 1024 + v + 512. */
        static int listed(int i, int v) {
            return i << 10 | v + 512;
        }

        static int listedPosition(int listed) {
            return listed >>> 10;
        }

        static int listedCode(int listed) {
            return (listed & 1023) - 512;
        }

        byte[] asCodes(Int8Range r) {
            if (codes != null && r.sameAs(range)) {
                return codes;
            }
            float[] f = asFloats();
            byte[] q = new byte[f.length];
            float inverse = 1f / r.scale;
            for (int i = 0; i < q.length; i++) {
                q[i] = (byte) code(f[i], inverse, r.zeroPoint);
            }
            return q;
        }

        /** {@code f}'s int8 code ({@code inverse} = 1 / scale): the one rounding rule of this path's quantizations. */
        static int code(float f, float inverse, int zero) {
            // in long: Math.round saturates at Integer.MAX_VALUE, which adding a positive zero point would wrap
            return (int) Math.max(-128, Math.min(127, (long) Math.round(f * inverse) + zero));
        }
    }

    interface Step {
        Values run(Values in);
    }

    /** One op on all values computed so far. */
    interface Node {
        Values run(Values[] values);
    }

    private final List<Node> steps;
    private final int int8Ops;

    private Int8Path(List<Node> steps, int int8Ops) {
        this.steps = List.copyOf(steps);
        this.int8Ops = int8Ops;
    }

    /**
     * Which ops of {@code ops} run in integers: each dense and conv op that {@link #runsInInt8 can}, and a
     * depthwise op that can only when its output goes straight into the next int8 op's codes. A depthwise
     * op does a handful of multiply-adds per output, so integers save it nothing; what they buy is values
     * staying codes between int8 ops. From float to float it would only add its input's rounding (on
     * Fashion-MNIST's test split: 99.44% of classes kept instead of 99.56%, RuntimeAgreementTest).
     */
    static boolean[] int8Ops(List<Op> ops) {
        int[] readers = readers(ops);
        boolean[] int8 = new boolean[ops.size()];
        for (int i = ops.size() - 1; i >= 0; i--) {   // backwards: a depthwise op looks at the ops after it
            Op op = ops.get(i);
            int8[i] = runsInInt8(op) && (op.kind != Op.Kind.DEPTHWISE_CONV2D || requantizeTo(ops, i, readers, int8) != null);
        }
        return int8;
    }

    /** How many ops read each value (0: the input, k + 1: op k's output). */
    private static int[] readers(List<Op> ops) {
        int[] readers = new int[ops.size() + 1];
        for (int i = 0; i < ops.size(); i++) {
            for (int v : ops.get(i).inputsAt(i)) {
                readers[v]++;
            }
        }
        return readers;
    }

    /** Whether {@code op} can run in integers on this path (linear codes of 8 bits or fewer, a calibrated input). */
    static boolean runsInInt8(Op op) {
        return (op.kind == Op.Kind.DENSE || op.kind == Op.Kind.CONV2D || op.kind == Op.Kind.DEPTHWISE_CONV2D)
                && op.inputRange != null && op.weights.kind() == QuantizedTensor.Kind.LINEAR && op.weights.bits() <= 8
                && (op.weights.channelAxis() < 0 || op.weights.channelAxis() == scaleAxis(op));
    }

    /**
     * The weights' axis a per-channel scale may run along on this path: a dense or conv layer's outputs; a
     * depthwise layer's input channels ([kh, kw, in, multiplier]: output c × multiplier + m has channel c's).
     */
    private static int scaleAxis(Op op) {
        return op.kind == Op.Kind.DEPTHWISE_CONV2D ? 2 : ModelDescription.outputAxis(op);
    }

    /** Output channels per scale: a depthwise layer's multiplier, else 1. */
    private static int outputsPerScale(Op op) {
        return op.kind == Op.Kind.DEPTHWISE_CONV2D ? (int) op.weights.shape()[3] : 1;
    }

    /** The int8 path of {@code model}, or null if no op of it runs in integers. */
    static Int8Path compile(ModelDescription model, List<Shape> shapes, Int8Dot kernel) {
        List<Op> ops = model.ops();
        int[] readers = readers(ops);
        boolean[] int8 = int8Ops(ops);
        List<Node> steps = new ArrayList<>();
        int count = 0;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            int[] inputs = op.inputsAt(i);
            if (op.kind == Op.Kind.ADD || op.kind == Op.Kind.CONCAT) {
                FloatPath.Join join = FloatPath.join(op.kind == Op.Kind.ADD, inputs);
                steps.add(values -> {
                    float[][] floats = new float[values.length][];
                    for (int v : inputs) {
                        floats[v] = values[v].asFloats();
                    }
                    return new Values(join.run(floats));
                });
                continue;
            }
            Shape in = shapes.get(inputs[0]);
            Shape out = shapes.get(i + 1);
            Step step;
            if (int8[i]) {
                count++;
                Int8Range next = requantizeTo(ops, i, readers, int8);
                step = op.kind == Op.Kind.DENSE ? new DenseStep(op, in, out, next, kernel)
                        : op.kind == Op.Kind.CONV2D ? new ConvStep(op, in, out, next)
                        : new DepthwiseStep(op, in, out, next);
            } else if (op.kind == Op.Kind.MAX_POOL) {
                FloatPath.Step floats = FloatPath.step(op, in, out);
                Window window = op.window;
                step = v -> v.codes != null ? new Values(maxPool(v.codes, window, in, out), v.range)
                        : new Values(floats.run(v.floats));
            } else {
                FloatPath.Step floats = FloatPath.step(op, in, out);
                step = v -> new Values(floats.run(v.asFloats()));
            }
            int from = inputs[0];
            steps.add(values -> step.run(values[from]));
        }
        return count == 0 ? null : new Int8Path(steps, count);
    }

    /**
     * The input range of the int8 op that op {@code i}'s output reaches through max pooling only, each value
     * on the way read by the next op alone; else null (the output becomes float). {@code int8}: which ops
     * after {@code i} run in integers.
     */
    private static Int8Range requantizeTo(List<Op> ops, int i, int[] readers, boolean[] int8) {
        ActivationFunction f = ops.get(i).activation;
        if (f != ActivationFunction.IDENTITY && f != ActivationFunction.RELU && f != ActivationFunction.RELU6) {
            return null;
        }
        for (int j = i + 1; j < ops.size(); j++) {
            Op next = ops.get(j);
            if (readers[j] != 1 || !next.readsPrevious(j)) {
                return null;
            }
            if (next.kind == Op.Kind.MAX_POOL) {
                continue;
            }
            return int8[j] ? next.inputRange : null;
        }
        return null;
    }

    int int8Ops() {
        return int8Ops;
    }

    float[] run(float[] input) {
        Values[] values = new Values[steps.size() + 1];
        values[0] = new Values(input);
        for (int i = 0; i < steps.size(); i++) {
            values[i + 1] = steps.get(i).run(values);
        }
        return values[steps.size()].asFloats().clone();
    }

    /** {@code m} as {@code multiplier × 2^−shift} with |multiplier| in [2^30, 2^31); the sign rides on the multiplier. */
    static long[] fixedPoint(double m) {
        if (m == 0 || !Double.isFinite(m)) {
            return new long[] {0, 1};
        }
        double a = Math.abs(m);
        int exponent = Math.getExponent(a);
        long multiplier = Math.round(a * Math.pow(2, 30 - exponent));
        int shift = 30 - exponent;
        if (multiplier == 1L << 31) {
            multiplier >>= 1;
            shift--;
        }
        return new long[] {m < 0 ? -multiplier : multiplier, shift};
    }

    /** {@code acc × multiplier × 2^−shift}, rounded half up, in integers (saturating at the int range). */
    static int scale(int acc, int multiplier, int shift) {
        if (shift > 62) {
            return 0;
        }
        if (shift <= 0) {
            double big = (double) acc * multiplier * Math.pow(2, -shift);
            return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, big));
        }
        long product = (long) acc * multiplier;
        long r = (product + (1L << (shift - 1))) >> shift;
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, r));
    }

    /**
     * What a dense or conv op shares: per output channel the weights' zero point and scale, the bias at the
     * accumulator's scale, and the way out (requantized codes, or floats).
     */
    abstract static class Weighted implements Step {
        final Int8Range x;
        final int[] wZero;
        final float[] wScale;
        final int[] biasQ;
        final Int8Range y;
        final int[] multiplier;
        final int[] shift;
        final int lo;
        final int hi;
        final ActivationFunction activation;
        final float alpha;

        Weighted(Op op, int outputs, Int8Range next) {
            x = op.inputRange;
            QuantizedTensor w = op.weights;
            wZero = new int[outputs];
            wScale = new float[outputs];
            int perScale = outputsPerScale(op);
            for (int o = 0; o < outputs; o++) {
                int c = w.channelAxis() < 0 ? 0 : o / perScale;
                wZero[o] = w.zeroPoints()[c];
                wScale[o] = w.scales()[c];
            }
            float[] bias = FloatPath.biasOf(op, outputs);
            biasQ = new int[outputs];
            multiplier = new int[outputs];
            shift = new int[outputs];
            for (int o = 0; o < outputs; o++) {
                double accScale = (double) x.scale * wScale[o];
                biasQ[o] = accScale == 0 ? 0 : (int) Math.max(Integer.MIN_VALUE / 2,
                        Math.min(Integer.MAX_VALUE / 2, Math.round(bias[o] / accScale)));
                if (next != null) {
                    long[] m = fixedPoint(accScale / next.scale);
                    multiplier[o] = (int) m[0];
                    shift[o] = (int) m[1];
                }
            }
            y = next;
            activation = op.activation;
            alpha = op.alpha;
            int low = -128;
            int high = 127;
            if (next != null && (activation == ActivationFunction.RELU || activation == ActivationFunction.RELU6)) {
                low = Math.max(low, next.zeroPoint);
            }
            if (next != null && activation == ActivationFunction.RELU6) {
                high = (int) Math.min(high, Math.round(6.0 / next.scale) + next.zeroPoint);
            }
            lo = low;
            hi = high;
        }

        /** The accumulators as the next op's codes, or as floats with the activation applied. */
        Values finish(int[] acc, int plane) {
            int channels = acc.length / plane;
            if (y != null) {
                byte[] q = new byte[acc.length];
                for (int o = 0; o < channels; o++) {
                    int m = multiplier[o];
                    int s = shift[o];
                    if (s <= 0 || s > 62) {
                        for (int i = o * plane; i < (o + 1) * plane; i++) {
                            q[i] = (byte) Math.max(lo, Math.min(hi, scale(acc[i], m, s) + y.zeroPoint));
                        }
                        continue;
                    }
                    // scale()'s usual case with its branches taken out of the loop: the same integers
                    long half = 1L << (s - 1);
                    long zero = y.zeroPoint;
                    for (int i = o * plane; i < (o + 1) * plane; i++) {
                        long v = (((long) acc[i] * m + half) >> s) + zero;
                        q[i] = (byte) Math.max(lo, Math.min(hi, v));
                    }
                }
                return new Values(q, y);
            }
            float[] f = new float[acc.length];
            for (int o = 0; o < channels; o++) {
                double scale = (double) x.scale * wScale[o];
                for (int i = o * plane; i < (o + 1) * plane; i++) {
                    f[i] = (float) (scale * acc[i]);
                }
            }
            activation.apply(f, 0, f.length, alpha);
            return new Values(f);
        }
    }

    /**
     * Dense, weights row-major [out][in]. On the plain-Java kernel the codes are stored widened to int with
     * their zero point taken off (HotSpot 17's C2 does not vectorise loops that widen bytes or shorts to ints).
     * Sixteen outputs or more: a row of weights per input, and each input whose centred code is not zero adds
     * its row scaled into the int32 accumulators, four inputs per pass ({@link Gemm#accumulate}): the float
     * path's loop in ints, so inputs at the zero point (an image's background, a ReLU's zeros) cost nothing.
     * Fewer outputs: a row per output, each output a dot product of two int arrays indexed alike. A vector
     * kernel reads the byte codes and the zero points' corrections are added after. Every form gives the same
     * integers (integer sums are exact in any order).
     */
    static final class DenseStep extends Weighted {
        private final int in;
        private final int out;
        /** Codes [out][in] (a vector kernel), or null. */
        private final byte[] w;
        /** Codes minus their zero point, a row per output (the plain-Java kernel, fewer than 16 outputs), or null. */
        private final int[][] wide;
        /** Codes minus their zero point, a row per input (the plain-Java kernel, 16 outputs or more), or null. */
        private final float[][] rows;
        /** Listed inputs per exact float partial sum ({@link Gemm#accumulate}). */
        private final int exactRun;
        private final int[] wSum;
        private final Int8Dot kernel;

        DenseStep(Op op, Shape inShape, Shape outShape, Int8Range next, Int8Dot kernel) {
            super(op, outShape.channels, next);
            this.kernel = kernel;
            in = inShape.size();
            out = outShape.channels;
            byte[] codes = new byte[in * out];
            QuantizedTensor t = op.weights;
            if (t.positions() != null) {
                // values not stored are exactly zero: their code is the zero point
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        codes[o * in + i] = (byte) wZero[o];
                    }
                }
            }
            for (int k = 0; k < t.stored(); k++) {
                int i = t.position(k);   // [in, out] c order
                codes[(i % out) * in + i / out] = (byte) t.codes()[k];
            }
            wSum = new int[out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    wSum[o] += codes[o * in + i];
                }
            }
            if (kernel != Int8Dot.scalar()) {
                wide = null;
                rows = null;
                exactRun = 0;
                w = codes;
            } else if (out >= FloatPath.WIDE_DENSE && in < Values.MAX_LISTED_POSITIONS && x.zeroPoint >= -128
                    && x.zeroPoint <= 127) {   // then a centred code is in [−255, 255], as listed() needs
                rows = new float[in][out];
                int maxW = 0;
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        rows[i][o] = codes[o * in + i] - wZero[o];
                        maxW = Math.max(maxW, Math.abs(codes[o * in + i] - wZero[o]));
                    }
                }
                int maxX = Math.max(Math.abs(-128 - x.zeroPoint), Math.abs(127 - x.zeroPoint));
                exactRun = Gemm.exactRun(maxW, maxX);
                wide = null;
                w = null;
            } else {
                wide = new int[out][in];
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        wide[o][i] = codes[o * in + i] - wZero[o];
                    }
                }
                rows = null;
                exactRun = 0;
                w = null;
            }
        }

        @Override
        public Values run(Values values) {
            if (rows != null) {
                int[] listed = new int[in];
                int n = values.centeredNonzero(x, listed);
                int[] acc = biasQ.clone();
                Gemm.accumulate(rows, listed, n, exactRun, acc);
                return finish(acc, 1);
            }
            int[] acc = new int[out];
            if (wide != null) {
                int[] xs = values.centered(x);
                for (int o = 0; o < out; o++) {
                    acc[o] = ScalarInt8Dot.dot(wide[o], xs, in) + biasQ[o];
                }
                return finish(acc, 1);
            }
            byte[] q = values.asCodes(x);
            int sumX = 0;
            for (int i = 0; i < in; i++) {
                sumX += q[i];
            }
            int constant = in * x.zeroPoint;
            for (int o = 0; o < out; o++) {
                int dot = kernel.dot(w, o * in, q, in);
                int wz = wZero[o];
                acc[o] = dot - wz * sumX - x.zeroPoint * wSum[o] + constant * wz + biasQ[o];
            }
            return finish(acc, 1);
        }
    }

    /** Convolution [out, in, kh, kw] on (x − xZero) and (w − wZero) as ints: padding is a real zero, so it adds nothing. */
    static final class ConvStep extends Weighted {
        private final int[] w;
        private final FloatPath.Geometry g;
        private final Shape in;
        private final Shape out;

        ConvStep(Op op, Shape in, Shape out, Int8Range next) {
            super(op, out.channels, next);
            this.in = in;
            this.out = out;
            QuantizedTensor t = op.weights;
            w = new int[t.size()];
            int perOutput = t.size() / out.channels;
            for (int k = 0; k < t.stored(); k++) {
                int i = t.position(k);
                w[i] = t.codes()[k] - wZero[i / perOutput];
            }
            g = new FloatPath.Geometry(op.window, in, out);
        }

        /** As the float path's convolution: the weights times the centred input unrolled by im2col, in ints. */
        @Override
        public Values run(Values values) {
            int[] xs = values.centered(x);
            int plane = out.height * out.width;
            int k = in.channels * g.kh * g.kw;
            int[][] columns;
            if (g.pointwise()) {
                columns = Gemm.rows(xs, 0, k, plane);
            } else {
                columns = new int[k][plane];
                g.im2col(xs, columns, in.channels);
            }
            int[] acc = new int[out.size()];
            Gemm.multiply(w, out.channels, k, columns, plane, biasQ, acc, 0);
            return finish(acc, plane);
        }
    }

    /**
     * Depthwise convolution, weights [kh, kw, in, multiplier] regrouped per output channel as ints minus their
     * zero point; output channel c × multiplier + m reads input channel c's (x − xZero), padding a real zero.
     * Each channel goes once into a zero-padded plane and a tap is one contiguous int multiply-add over
     * every output row at once, as on the float path.
     */
    static final class DepthwiseStep extends Weighted {
        private final int[] w;
        private final FloatPath.Geometry g;
        private final Shape in;
        private final Shape out;
        private final int mult;

        DepthwiseStep(Op op, Shape in, Shape out, Int8Range next) {
            super(op, out.channels, next);
            this.in = in;
            this.out = out;
            QuantizedTensor t = op.weights;
            long[] s = t.shape();
            int kh = (int) s[0];
            int kw = (int) s[1];
            int channels = (int) s[2];
            mult = (int) s[3];
            // values not stored are exactly zero: code = zero point, so w − wZero = 0 (the array's default)
            w = new int[t.size()];
            for (int k = 0; k < t.stored(); k++) {
                int i = t.position(k);   // [kh, kw, in, mult] c order
                int m = i % mult;
                int c = (i / mult) % channels;
                int tap = i / (mult * channels);   // ky · kw + kx
                int o = c * mult + m;
                w[o * kh * kw + tap] = t.codes()[k] - wZero[o];
            }
            g = new FloatPath.Geometry(op.window, in, out);
        }

        @Override
        public Values run(Values values) {
            int[] xs = values.centered(x);
            int plane = out.height * out.width;
            int inPlane = in.height * in.width;
            int kernel = g.kh * g.kw;
            int[] acc = new int[out.size()];
            int paddedW = g.paddedWidth();
            int paddedH = g.paddedHeight();
            int span = g.span(paddedW);
            int[] padded = new int[paddedH * paddedW];
            int[] wide = new int[span];
            int[] shifted = new int[span];
            for (int c = 0; c < in.channels; c++) {
                g.pad(xs, c * inPlane, padded, paddedW, paddedH);
                for (int m = 0; m < mult; m++) {
                    int o = c * mult + m;
                    java.util.Arrays.fill(wide, biasQ[o]);
                    for (int ky = 0; ky < g.kh; ky++) {
                        for (int kx = 0; kx < g.kw; kx++) {
                            int weight = w[o * kernel + ky * g.kw + kx];
                            int tap = ky * g.dh * paddedW + kx * g.dw;
                            // the tap's run copied to an array of its own: indexed alike, C2 vectorises
                            System.arraycopy(padded, tap, shifted, 0, span);
                            for (int i = 0; i < span; i++) {
                                wide[i] += weight * shifted[i];
                            }
                        }
                    }
                    g.pick(wide, paddedW, acc, o * plane);
                }
            }
            return finish(acc, plane);
        }
    }

    /** Max pooling on codes: the codes of one range are ordered as their values. */
    static byte[] maxPool(byte[] x, Window window, Shape in, Shape out) {
        FloatPath.Geometry g = new FloatPath.Geometry(window, in, out);
        byte[] y = new byte[out.size()];
        for (int c = 0; c < in.channels; c++) {
            int xBase = c * in.height * in.width;
            for (int oy = 0; oy < out.height; oy++) {
                for (int ox = 0; ox < out.width; ox++) {
                    int best = Integer.MIN_VALUE;
                    for (int ky = 0; ky < g.kh; ky++) {
                        int iy = oy * g.sh - g.top + ky * g.dh;
                        if (iy < 0 || iy >= in.height) {
                            continue;
                        }
                        for (int kx = 0; kx < g.kw; kx++) {
                            int ix = ox * g.sw - g.left + kx * g.dw;
                            if (ix >= 0 && ix < in.width) {
                                best = Math.max(best, x[xBase + iy * in.width + ix]);
                            }
                        }
                    }
                    y[(c * out.height + oy) * out.width + ox] = (byte) best;
                }
            }
        }
        return y;
    }
}
