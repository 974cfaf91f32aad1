package dev.distill.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * Every op in float32 on plain arrays, one example at a time, values channels-first. Weights are decoded
 * (k-means, binary, linear codes) once, when the path is built. No step changes its input (a value may
 * have several readers in a graph). Immutable: each call allocates its own buffers, so one instance
 * serves any number of threads.
 */
final class FloatPath {

    /** One compiled op with one input: reads {@code in} (never changes it), returns a new array. */
    interface Step {
        float[] run(float[] in);
    }

    /** One compiled op on all values computed so far (joins: add, concat). */
    interface Join {
        float[] run(float[][] values);
    }

    private final List<Join> steps;

    private FloatPath(List<Join> steps) {
        this.steps = List.copyOf(steps);
    }

    static FloatPath compile(ModelDescription model, List<Shape> shapes) {
        List<Join> steps = new ArrayList<>();
        List<Op> ops = model.ops();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            int[] inputs = op.inputsAt(i);
            if (op.kind == Op.Kind.ADD || op.kind == Op.Kind.CONCAT) {
                steps.add(join(op.kind == Op.Kind.ADD, inputs));
            } else {
                Step step = step(op, shapes.get(inputs[0]), shapes.get(i + 1));
                int from = inputs[0];
                steps.add(values -> step.run(values[from]));
            }
        }
        return new FloatPath(steps);
    }

    /** {@code input} (the network's input, preprocessing applied) through every op; {@code input} is not changed. */
    float[] run(float[] input) {
        float[][] values = new float[steps.size() + 1][];
        values[0] = input;
        for (int i = 0; i < steps.size(); i++) {
            values[i + 1] = steps.get(i).run(values);
        }
        return values[steps.size()];
    }

    /** The sum of the inputs, or their channels stacked (channels-first, so the arrays one after another). */
    static Join join(boolean add, int[] inputs) {
        return values -> {
            if (add) {
                float[] y = values[inputs[0]].clone();
                for (int k = 1; k < inputs.length; k++) {
                    float[] x = values[inputs[k]];
                    for (int i = 0; i < y.length; i++) {
                        y[i] += x[i];
                    }
                }
                return y;
            }
            int n = 0;
            for (int v : inputs) {
                n += values[v].length;
            }
            float[] y = new float[n];
            int at = 0;
            for (int v : inputs) {
                System.arraycopy(values[v], 0, y, at, values[v].length);
                at += values[v].length;
            }
            return y;
        };
    }

    static Step step(Op op, Shape in, Shape out) {
        switch (op.kind) {
            case DENSE:
                return dense(op, in, out);
            case CONV2D:
                return conv(op, in, out);
            case DEPTHWISE_CONV2D:
                return depthwise(op, in, out);
            case MAX_POOL:
            case AVG_POOL:
                return pool(op.kind == Op.Kind.MAX_POOL, op.window, in, out);
            case GLOBAL_AVG_POOL:
            case GLOBAL_MAX_POOL:
                return globalPool(op.kind == Op.Kind.GLOBAL_MAX_POOL, in);
            case SCALE_SHIFT:
                return scaleShift(op.scale.clone(), op.shift.clone(), in);
            case ACTIVATION:
                return activation(op.activation, op.alpha, in);
            case SUBSET: {
                int plane = in.height * in.width;
                int from = op.from * plane;
                int to = (op.to + 1) * plane;
                return x -> java.util.Arrays.copyOfRange(x, from, to);
            }
            default:
                throw new IllegalStateException(op.kind.name());
        }
    }

    static float[] biasOf(Op op, int outputs) {
        return op.bias == null ? new float[outputs] : op.bias.dequantize();
    }

    /**
     * Dense. Sixteen outputs or more (a vector register's worth): weights kept [in][out] and, for each
     * non-zero input, its row of weights scaled into the outputs, four inputs per pass, a contiguous loop
     * over the outputs that C2 vectorises; inputs a ReLU zeroed cost nothing. Fewer outputs: weights
     * transposed to [out][in], each output one dot product along the input.
     */
    private static Step dense(Op op, Shape in, Shape out) {
        int n = in.size();
        int m = out.channels;
        float[] w = op.weights.dequantize();   // [in, out]
        float[] bias = biasOf(op, m);
        ActivationFunction f = op.activation;
        float alpha = op.alpha;
        if (m >= WIDE_DENSE) {
            float[][] rows = Gemm.rows(w, 0, n, m);   // one row of weights per input, indexed from 0 (see Gemm)
            return x -> {
                float[] y = bias.clone();
                int[] nonzero = new int[n];
                int count = 0;
                for (int i = 0; i < n; i++) {
                    if (x[i] != 0) {
                        nonzero[count++] = i;
                    }
                }
                int j = 0;
                for (; j + 3 < count; j += 4) {
                    float x0 = x[nonzero[j]];
                    float x1 = x[nonzero[j + 1]];
                    float x2 = x[nonzero[j + 2]];
                    float x3 = x[nonzero[j + 3]];
                    float[] w0 = rows[nonzero[j]];
                    float[] w1 = rows[nonzero[j + 1]];
                    float[] w2 = rows[nonzero[j + 2]];
                    float[] w3 = rows[nonzero[j + 3]];
                    for (int o = 0; o < m; o++) {
                        y[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
                    }
                }
                for (; j < count; j++) {
                    float xi = x[nonzero[j]];
                    float[] wi = rows[nonzero[j]];
                    for (int o = 0; o < m; o++) {
                        y[o] += xi * wi[o];
                    }
                }
                f.apply(y, 0, m, alpha);
                return y;
            };
        }
        float[] t = new float[w.length];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < m; o++) {
                t[o * n + i] = w[i * m + o];
            }
        }
        return x -> {
            float[] y = new float[m];
            for (int o = 0; o < m; o++) {
                y[o] = bias[o] + dot(t, o * n, x, n);
            }
            f.apply(y, 0, m, alpha);
            return y;
        };
    }

    /** Outputs from which a dense layer runs along its outputs (one 512-bit vector of floats). */
    static final int WIDE_DENSE = 16;

    /** Four partial sums: independent chains the CPU can overlap, instead of one long dependency. */
    static float dot(float[] w, int offset, float[] x, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[offset + i] * x[i];
            s1 += w[offset + i + 1] * x[i + 1];
            s2 += w[offset + i + 2] * x[i + 2];
            s3 += w[offset + i + 3] * x[i + 3];
        }
        for (; i < n; i++) {
            s0 += w[offset + i] * x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Convolution, weights [out, in, kh, kw]: a matrix product of the weights, [out][in · kh · kw], with the
     * input unrolled into columns (im2col: row (c, ky, kx), one column per output position, zero where a
     * tap lands in the padding). A 1 × 1 convolution at stride 1 without padding needs no unrolling: the
     * input is that matrix already.
     */
    private static Step conv(Op op, Shape in, Shape out) {
        float[] w = op.weights.dequantize();
        float[] bias = biasOf(op, out.channels);
        Geometry g = new Geometry(op.window, in, out);
        ActivationFunction f = op.activation;
        float alpha = op.alpha;
        int k = in.channels * g.kh * g.kw;
        int positions = out.height * out.width;
        boolean pointwise = g.pointwise();
        return x -> {
            float[][] columns;
            if (pointwise) {
                columns = Gemm.rows(x, 0, k, positions);
            } else {
                columns = new float[k][positions];
                g.im2col(x, columns, in.channels);
            }
            float[] y = new float[out.size()];
            Gemm.multiply(w, out.channels, k, columns, positions, bias, y, 0);
            f.apply(y, 0, y.length, alpha);
            return y;
        };
    }

    /**
     * Depthwise convolution, weights [kh, kw, in, multiplier]: output channel c × multiplier + m reads input
     * channel c alone, so each output plane is a direct loop over its taps (no matrix to multiply).
     */
    private static Step depthwise(Op op, Shape in, Shape out) {
        float[] raw = op.weights.dequantize();
        long[] s = op.weights.shape();
        int kh = (int) s[0];
        int kw = (int) s[1];
        int channels = (int) s[2];
        int mult = (int) s[3];
        // regrouped per output channel, [out][kh][kw]
        float[] w = new float[raw.length];
        for (int y = 0; y < kh; y++) {
            for (int x = 0; x < kw; x++) {
                for (int c = 0; c < channels; c++) {
                    for (int m = 0; m < mult; m++) {
                        w[((c * mult + m) * kh + y) * kw + x] = raw[((y * kw + x) * channels + c) * mult + m];
                    }
                }
            }
        }
        float[] bias = biasOf(op, out.channels);
        Geometry g = new Geometry(op.window, in, out);
        ActivationFunction f = op.activation;
        float alpha = op.alpha;
        int plane = out.height * out.width;
        int inPlane = in.height * in.width;
        // each channel copied once into a zero-padded plane, so a tap is one long contiguous multiply-add over
        // every output row at once (rows of a small feature map are too short for vector loops); the positions
        // between the strides and past the output width are computed and dropped
        int paddedW = g.paddedWidth();
        int paddedH = g.paddedHeight();
        int span = g.span(paddedW);
        return x -> {
            float[] y = new float[out.size()];
            float[] padded = new float[paddedH * paddedW];
            float[] wide = new float[span];
            float[] shifted = new float[span];
            for (int c = 0; c < channels; c++) {
                g.pad(x, c * inPlane, padded, paddedW, paddedH);
                for (int m = 0; m < mult; m++) {
                    int o = c * mult + m;
                    java.util.Arrays.fill(wide, bias[o]);
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0; kx < kw; kx++) {
                            float weight = w[(o * kh + ky) * kw + kx];
                            int tap = ky * g.dh * paddedW + kx * g.dw;
                            // the tap's run copied to an array of its own: indexed alike, C2 vectorises
                            System.arraycopy(padded, tap, shifted, 0, span);
                            for (int i = 0; i < span; i++) {
                                wide[i] += weight * shifted[i];
                            }
                        }
                    }
                    g.pick(wide, paddedW, y, o * plane);
                }
            }
            f.apply(y, 0, y.length, alpha);
            return y;
        };
    }

    /** Where a window's taps land: the padding before the first row and column, and the sizes. */
    static final class Geometry {
        final int kh;
        final int kw;
        final int sh;
        final int sw;
        final int dh;
        final int dw;
        final int top;
        final int left;
        final int inH;
        final int inW;
        final int outH;
        final int outW;

        Geometry(Window w, Shape in, Shape out) {
            kh = w.kernelH;
            kw = w.kernelW;
            sh = w.strideH;
            sw = w.strideW;
            dh = w.dilationH;
            dw = w.dilationW;
            top = w.topPadding(in.height, out.height);
            left = w.leftPadding(in.width, out.width);
            inH = in.height;
            inW = in.width;
            outH = out.height;
            outW = out.width;
        }

        /** Whether every tap of every output position lands inside the input (no padding read). */
        boolean inside() {
            return top == 0 && left == 0 && (outH - 1) * sh + (kh - 1) * dh < inH
                    && (outW - 1) * sw + (kw - 1) * dw < inW;
        }

        /** The first output column whose tap {@code kx} lands inside the input. */
        int firstColumn(int kx) {
            int offset = left - kx * dw;
            return offset <= 0 ? 0 : (offset + sw - 1) / sw;
        }

        /** One past the last output column whose tap {@code kx} lands inside the input. */
        int endColumn(int kx) {
            // ox * sw - left + kx * dw <= inW - 1
            long last = (long) inW - 1 + left - (long) kx * dw;
            return last < 0 ? 0 : (int) Math.min(outW, last / sw + 1);
        }

        /**
         * The input unrolled for a convolution: row (c, ky, kx) of {@code rows} ([channels · kh · kw] rows of
         * outH · outW) receives, for each output position, the input value tap (ky, kx) of channel c reads
         * there; positions in the padding are left as they are (0 in new rows). {@code x} and the rows are
         * float[] (the float path) or int[] (the int8 path's centred codes): values are copied with
         * {@link System#arraycopy}, which takes either.
         */
        void im2col(Object x, Object[] rows, int channels) {
            int row = 0;
            for (int c = 0; c < channels; c++) {
                int xBase = c * inH * inW;
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++, row++) {
                        int from = firstColumn(kx);
                        int to = endColumn(kx);
                        for (int oy = 0; oy < outH && from < to; oy++) {
                            int iy = oy * sh - top + ky * dh;
                            if (iy < 0 || iy >= inH) {
                                continue;   // padding rows stay 0
                            }
                            int xRow = xBase + iy * inW - left + kx * dw;
                            int at = oy * outW;
                            if (sw == 1) {
                                System.arraycopy(x, xRow + from, rows[row], at + from, to - from);
                            } else {
                                for (int ox = from; ox < to; ox++) {
                                    System.arraycopy(x, xRow + ox * sw, rows[row], at + ox, 1);
                                }
                            }
                        }
                    }
                }
            }
        }

        /** Whether a convolution on this window reads its input as the matrix im2col would make (1 × 1, stride 1). */
        boolean pointwise() {
            return kh == 1 && kw == 1 && sh == 1 && sw == 1 && top == 0 && left == 0 && inH == outH && inW == outW;
        }

        /** Width of the zero-padded plane a depthwise tap runs along: every column some tap reads. */
        int paddedWidth() {
            return (outW - 1) * sw + (kw - 1) * dw + 1;
        }

        /** Height of that plane: every row some tap reads. */
        int paddedHeight() {
            return (outH - 1) * sh + (kh - 1) * dh + 1;
        }

        /** Positions of a tap's run along the plane: from the first output's to the last output's. */
        int span(int paddedWidth) {
            return (outH - 1) * sh * paddedWidth + (outW - 1) * sw + 1;
        }

        /**
         * Channel {@code xBase} of {@code x} into {@code padded}, a {@code height} × {@code width} plane whose
         * (0, 0) is the top-left padding: input (iy, ix) lands at (iy + top, ix + left); input rows and
         * columns no tap reads are left out. Every channel fills the same positions, so the padding of a new
         * (zeroed) plane stays zero from channel to channel. float[] or int[], as {@link #im2col}.
         */
        void pad(Object x, int xBase, Object padded, int width, int height) {
            int firstX = Math.max(0, -left);
            int endX = Math.min(inW, width - left);
            if (endX <= firstX) {
                return;
            }
            for (int iy = Math.max(0, -top); iy < inH && iy + top < height; iy++) {
                System.arraycopy(x, xBase + iy * inW + firstX, padded, (iy + top) * width + firstX + left,
                        endX - firstX);
            }
        }

        /**
         * The output positions of a tap run along a padded plane {@code width} wide ({@code wide}: one value per
         * plane position from the first output's) into {@code y} from {@code yBase}, row by row: every
         * stride-th row and column. float[] or int[].
         */
        void pick(Object wide, int width, Object y, int yBase) {
            for (int oy = 0; oy < outH; oy++) {
                if (sw == 1) {
                    System.arraycopy(wide, oy * sh * width, y, yBase + oy * outW, outW);
                } else {
                    for (int ox = 0; ox < outW; ox++) {
                        System.arraycopy(wide, oy * sh * width + ox * sw, y, yBase + oy * outW + ox, 1);
                    }
                }
            }
        }
    }

    /** Max or average pooling; max ignores padding, average is only compiled without any. */
    static Step pool(boolean max, Window window, Shape in, Shape out) {
        Geometry g = new Geometry(window, in, out);
        if (max && g.inside()) {
            // every window inside the input (no padding): no bounds to check per tap
            return x -> {
                float[] y = new float[out.size()];
                int at = 0;
                for (int c = 0; c < in.channels; c++) {
                    int xBase = c * in.height * in.width;
                    for (int oy = 0; oy < out.height; oy++) {
                        int row = xBase + oy * g.sh * in.width;
                        for (int ox = 0; ox < out.width; ox++) {
                            int corner = row + ox * g.sw;
                            float best = Float.NEGATIVE_INFINITY;
                            for (int ky = 0; ky < g.kh; ky++) {
                                int tap = corner + ky * g.dh * in.width;
                                for (int kx = 0; kx < g.kw; kx++) {
                                    best = Math.max(best, x[tap + kx * g.dw]);
                                }
                            }
                            y[at++] = best;
                        }
                    }
                }
                return y;
            };
        }
        return x -> {
            float[] y = new float[out.size()];
            for (int c = 0; c < in.channels; c++) {
                int xBase = c * in.height * in.width;
                for (int oy = 0; oy < out.height; oy++) {
                    for (int ox = 0; ox < out.width; ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        double sum = 0;
                        for (int ky = 0; ky < g.kh; ky++) {
                            int iy = oy * g.sh - g.top + ky * g.dh;
                            if (iy < 0 || iy >= in.height) {
                                continue;
                            }
                            for (int kx = 0; kx < g.kw; kx++) {
                                int ix = ox * g.sw - g.left + kx * g.dw;
                                if (ix < 0 || ix >= in.width) {
                                    continue;
                                }
                                float v = x[xBase + iy * in.width + ix];
                                best = Math.max(best, v);
                                sum += v;
                            }
                        }
                        y[(c * out.height + oy) * out.width + ox] = max ? best : (float) (sum / (g.kh * g.kw));
                    }
                }
            }
            return y;
        };
    }

    private static Step globalPool(boolean max, Shape in) {
        int plane = in.height * in.width;
        return x -> {
            float[] y = new float[in.channels];
            for (int c = 0; c < in.channels; c++) {
                float best = Float.NEGATIVE_INFINITY;
                double sum = 0;
                for (int i = c * plane; i < (c + 1) * plane; i++) {
                    best = Math.max(best, x[i]);
                    sum += x[i];
                }
                y[c] = max ? best : (float) (sum / plane);
            }
            return y;
        };
    }

    private static Step scaleShift(float[] scale, float[] shift, Shape in) {
        int plane = in.height * in.width;
        return x -> {
            float[] y = new float[x.length];
            for (int c = 0; c < in.channels; c++) {
                for (int i = c * plane; i < (c + 1) * plane; i++) {
                    y[i] = x[i] * scale[c] + shift[c];
                }
            }
            return y;
        };
    }

    private static Step activation(ActivationFunction f, float alpha, Shape in) {
        return x -> {
            float[] y = x.clone();
            f.apply(y, 0, y.length, alpha);
            return y;
        };
    }
}
