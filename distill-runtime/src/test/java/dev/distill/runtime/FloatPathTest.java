package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float path's convolutions and pooling against a direct reference written from DL4J's definitions
 * (output size, "same" padding with the odd row at the bottom, weights [out, in, kh, kw] and depthwise
 * [kh, kw, in, multiplier]), over windows of every kind.
 */
class FloatPathTest {

    private static final Window[] WINDOWS = {
        new Window(3, 3, 1, 1, 0, 0, 1, 1, true), new Window(3, 3, 2, 2, 0, 0, 1, 1, true),
        new Window(2, 3, 2, 1, 0, 0, 1, 1, true), new Window(3, 3, 1, 1, 1, 1, 1, 1, false),
        new Window(3, 2, 2, 3, 1, 0, 1, 1, false), new Window(3, 3, 1, 1, 0, 0, 2, 2, false),
        new Window(3, 3, 1, 1, 0, 0, 2, 1, true), new Window(1, 1, 1, 1, 0, 0, 1, 1, false)};

    /** Value of input channel c at (y, x), 0 outside (padding). */
    private static float at(float[] x, int c, int y, int xx, int h, int w) {
        return y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[(c * h + y) * w + xx];
    }

    private static int outLength(int in, int k, int s, int p, int d, boolean same) {
        return same ? (in + s - 1) / s : (in + 2 * p - ((k - 1) * d + 1)) / s + 1;
    }

    private static int before(int in, int out, int k, int s, int p, int d, boolean same) {
        return same ? Math.max(0, ((out - 1) * s + (k - 1) * d + 1 - in) / 2) : p;
    }

    @Test
    void convolutionsEqualTheDirectFormula() throws Exception {
        Random r = new Random(11);
        int c = 3;
        int h = 9;
        int w = 8;
        for (Window win : WINDOWS) {
            for (boolean depthwise : new boolean[] {false, true}) {
                int outC = depthwise ? c * 2 : 5;
                QuantizedTensor weights = depthwise ? TestModels.floats("0_W", r, win.kernelH, win.kernelW, c, 2)
                        : TestModels.floats("0_W", r, outC, c, win.kernelH, win.kernelW);
                QuantizedTensor bias = TestModels.floats("0_b", r, outC);
                Op op = depthwise ? Op.depthwiseConv2d(weights, bias, win, ActivationFunction.IDENTITY, 0)
                        : Op.conv2d(weights, bias, win, ActivationFunction.IDENTITY, 0);
                Model m = Model.of(new ModelDescription(new int[] {c, h, w}, Preprocessing.NONE, List.of(),
                        List.of(op)), "conv");
                float[] x = TestModels.gaussian(r, c * h * w, 1);
                int oh = outLength(h, win.kernelH, win.strideH, win.padH, win.dilationH, win.same);
                int ow = outLength(w, win.kernelW, win.strideW, win.padW, win.dilationW, win.same);
                int top = before(h, oh, win.kernelH, win.strideH, win.padH, win.dilationH, win.same);
                int left = before(w, ow, win.kernelW, win.strideW, win.padW, win.dilationW, win.same);
                float[] wv = weights.floats();
                float[] expected = new float[outC * oh * ow];
                for (int o = 0; o < outC; o++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double sum = bias.floats()[o];
                            for (int ky = 0; ky < win.kernelH; ky++) {
                                for (int kx = 0; kx < win.kernelW; kx++) {
                                    int iy = oy * win.strideH - top + ky * win.dilationH;
                                    int ix = ox * win.strideW - left + kx * win.dilationW;
                                    if (depthwise) {
                                        int ci = o / 2;
                                        sum += wv[((ky * win.kernelW + kx) * c + ci) * 2 + o % 2] * at(x, ci, iy, ix, h, w);
                                    } else {
                                        for (int ci = 0; ci < c; ci++) {
                                            sum += wv[((o * c + ci) * win.kernelH + ky) * win.kernelW + kx]
                                                    * at(x, ci, iy, ix, h, w);
                                        }
                                    }
                                }
                            }
                            expected[(o * oh + oy) * ow + ox] = (float) sum;
                        }
                    }
                }
                float[] actual = m.predict(x);
                assertEquals(expected.length, actual.length, win + (depthwise ? " depthwise" : ""));
                assertArrayEquals(expected, actual, 1e-4f, win + (depthwise ? " depthwise" : ""));
            }
        }
    }

    @Test
    void maxPoolingIgnoresPaddingAndAveragePoolingDividesByTheWindow() throws Exception {
        Random r = new Random(12);
        for (Window win : new Window[] {new Window(2, 2, 2, 2, 0, 0, 1, 1, false), new Window(3, 3, 2, 2, 0, 0, 1, 1,
                true), new Window(3, 2, 1, 2, 0, 0, 1, 1, false)}) {
            for (boolean max : new boolean[] {true, false}) {
                int c = 2;
                int h = 7;
                int w = 6;
                ModelDescription d = new ModelDescription(new int[] {c, h, w}, Preprocessing.NONE, List.of(),
                        List.of(Op.pool(max, win)));
                if (!max && win.same) {
                    continue;   // refused: padding counts differently across implementations
                }
                float[] x = TestModels.gaussian(r, c * h * w, 1);
                int oh = outLength(h, win.kernelH, win.strideH, 0, 1, win.same);
                int ow = outLength(w, win.kernelW, win.strideW, 0, 1, win.same);
                int top = before(h, oh, win.kernelH, win.strideH, 0, 1, win.same);
                int left = before(w, ow, win.kernelW, win.strideW, 0, 1, win.same);
                float[] expected = new float[c * oh * ow];
                for (int ci = 0; ci < c; ci++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            float best = Float.NEGATIVE_INFINITY;
                            double sum = 0;
                            for (int ky = 0; ky < win.kernelH; ky++) {
                                for (int kx = 0; kx < win.kernelW; kx++) {
                                    int iy = oy * win.strideH - top + ky;
                                    int ix = ox * win.strideW - left + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        best = Math.max(best, x[(ci * h + iy) * w + ix]);
                                        sum += x[(ci * h + iy) * w + ix];
                                    }
                                }
                            }
                            expected[(ci * oh + oy) * ow + ox] = max ? best
                                    : (float) (sum / (win.kernelH * win.kernelW));
                        }
                    }
                }
                assertArrayEquals(expected, Model.of(d, "pool").predict(x), 1e-6f, win + (max ? " max" : " avg"));
            }
        }
    }

    /** The graph's joins against the same ops run one by one and combined here by hand. */
    @Test
    void graphOpsAddConcatenateAndSubsetChannelsAndAValueReadTwiceIsNotChanged() throws Exception {
        ModelDescription g = TestModels.graph(31);
        List<Op> ops = g.ops();
        Random r = new Random(32);
        float[] x = TestModels.gaussian(r, 36, 1);
        Model whole = Model.of(g, "graph");
        java.util.function.BiFunction<Op, int[], float[]> alone = (op, shape) -> {
            try {
                return Model.of(new ModelDescription(shape, Preprocessing.NONE, List.of(), List.of(op.withInputs(0))),
                        "one op").predict(current[0]);
            } catch (ModelFormatException e) {
                throw new AssertionError(e);
            }
        };
        current[0] = x;
        float[] a = alone.apply(ops.get(0), new int[] {1, 6, 6});
        current[0] = a;
        float[] b = alone.apply(ops.get(1), new int[] {4, 6, 6});
        float[] sum = new float[a.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = a[i] + b[i];
        }
        float[] cat = new float[6 * 36];
        System.arraycopy(sum, 0, cat, 0, sum.length);
        System.arraycopy(sum, 36, cat, sum.length, 2 * 36);   // channels 1 and 2
        current[0] = cat;
        float[] bn = alone.apply(ops.get(5), new int[] {6, 6, 6});
        float[] twice = new float[bn.length];
        for (int i = 0; i < bn.length; i++) {
            twice[i] = bn[i] + Math.max(0, bn[i]);   // the relu must not change the value the add reads too
        }
        current[0] = twice;
        float[] pooled = alone.apply(ops.get(8), new int[] {6, 6, 6});
        current[0] = pooled;
        float[] expected = alone.apply(ops.get(9), new int[] {6, 1, 1});
        assertArrayEquals(expected, whole.predict(x), 1e-6f);
        assertEquals(10, whole.description().ops().size(), "every op kept");
    }

    private static final float[][] current = new float[1][];

    @Test
    void denseLayersFlattenFeatureMapsChannelsFirstAndSoftmaxSumsToOne() throws Exception {
        Random r = new Random(13);
        QuantizedTensor wt = TestModels.floats("0_W", r, 12, 4);
        QuantizedTensor b = TestModels.floats("0_b", r, 4);
        Model m = Model.of(new ModelDescription(new int[] {3, 2, 2}, Preprocessing.NONE, List.of(),
                List.of(Op.dense(wt, b, ActivationFunction.SOFTMAX, 0))), "dense");
        float[] x = TestModels.gaussian(r, 12, 1);
        double[] logits = new double[4];
        for (int o = 0; o < 4; o++) {
            logits[o] = b.floats()[o];
            for (int i = 0; i < 12; i++) {
                logits[o] += x[i] * wt.floats()[i * 4 + o];   // [in, out], input in (c, h, w) order
            }
        }
        double max = java.util.Arrays.stream(logits).max().getAsDouble();
        double sum = java.util.Arrays.stream(logits).map(v -> Math.exp(v - max)).sum();
        float[] p = m.predict(x);
        for (int o = 0; o < 4; o++) {
            assertEquals(Math.exp(logits[o] - max) / sum, p[o], 1e-6);
        }
    }
}
