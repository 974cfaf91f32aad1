package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The int8 path against references in longs and doubles, and against the float path on the same weights. */
class Int8PathTest {

    @Test
    void fixedPointRequantizationMatchesTheRealMultiplierOfEitherSign() {
        for (double m : new double[] {0.7, 0.0031, 1.9e-5, 3.5, -0.25, -0.0042}) {
            long[] f = Int8Path.fixedPoint(m);
            assertTrue(Math.abs(f[0]) >= 1L << 30 && Math.abs(f[0]) < 1L << 31, "multiplier " + f[0]);
            for (int acc : new int[] {0, 1, -1, 1234, -98765, 3_000_000}) {
                long expected = Math.round(acc * m);
                assertTrue(Math.abs(Int8Path.scale(acc, (int) f[0], (int) f[1]) - expected) <= 1, m + " × " + acc);
            }
        }
    }

    /**
     * One int8 dense layer with identity output: its output is scale × the accumulator, so it must equal
     * Σ (q(x) − xZero)(w − wZero) + round(bias / scale), all times scale, computed here in longs. Six outputs
     * run as dot products, twenty as rows added per input; an odd input count, and inputs of exactly 0 (which
     * the rows form skips) among them.
     */
    @Test
    void denseAccumulatorsEqualAReferenceInLongs() throws Exception {
        Random r = new Random(21);
        int in = 41;
        for (int outputs : new int[] {6, FloatPath.WIDE_DENSE + 4}) {
            for (int keepEvery : new int[] {1, 3}) {
                QuantizedTensor w = TestModels.int8("0_W", r, 1, keepEvery, in, outputs);
                QuantizedTensor b = TestModels.floats("0_b", r, outputs);
                Int8Range range = new Int8Range(0.01f, -20);
                Model m = Model.of(new ModelDescription(new int[] {in, 1, 1}, Preprocessing.NONE, List.of(), List.of(
                        Op.dense(w, b, ActivationFunction.IDENTITY, 0).withInputRange(range))), "int8");
                assertEquals(Precision.INT8, m.precision());
                float[] values = w.dequantize();
                for (int e = 0; e < 20; e++) {
                    float[] x = TestModels.gaussian(r, in, 0.5);
                    for (int i = e % 3; i < in; i += 3) {
                        x[i] = 0;
                    }
                    float[] out = m.predict(x);
                    for (int o = 0; o < outputs; o++) {
                        float wScale = w.scales()[o];
                        double accScale = (double) range.scale * wScale;
                        long acc = Math.round(b.floats()[o] / accScale);
                        for (int i = 0; i < in; i++) {
                            long code = Math.round(values[i * outputs + o] / wScale);   // symmetric: zero point 0
                            acc += (long) (range.quantize(x[i]) - range.zeroPoint) * code;
                        }
                        assertEquals((float) (accScale * acc), out[o], Math.abs(out[o]) * 1e-6f + 1e-9f,
                                outputs + " outputs, unit " + o);
                    }
                }
            }
        }
    }

    /**
     * The rows kernel gives exactly the int32 accumulators of the plain triple loop, on random shapes (odd
     * input and output counts, fewer inputs than a pass of four, more outputs than a vector), random codes of
     * both signs, random listed subsets of the inputs in order, and runs of float partial sums of every length
     * from 1 to the longest exact one; and at the extreme (every product 255 × 255, 784 inputs), where one
     * product more per run would leave the integers float holds exactly.
     */
    @Test
    void rowsKernelGivesTheAccumulatorsOfAPlainLoop() {
        Random r = new Random(5);
        int longest = Gemm.exactRun(255, 255);
        assertEquals(258, longest);
        int[][] shapes = {{1, 16}, {3, 17}, {5, 31}, {7, 1}, {33, 130}, {785, 32}, {784, 128}, {64, 19}};
        for (int[] shape : shapes) {
            int in = shape[0];
            int out = shape[1];
            int[][] w = new int[in][out];
            for (int[] row : w) {
                for (int o = 0; o < out; o++) {
                    row[o] = r.nextInt(511) - 255;
                }
            }
            for (int run : new int[] {1, 3, longest}) {
                int[] x = new int[in];
                for (int i = 0; i < in; i++) {
                    x[i] = r.nextInt(3) == 0 ? 0 : r.nextInt(511) - 255;
                }
                assertRowsKernelExact(w, x, r.nextInt(2001) - 1000, run, in + " x " + out + ", runs of " + run);
            }
        }
        int[][] extreme = new int[784][32];
        for (int[] row : extreme) {
            java.util.Arrays.fill(row, 255);
        }
        int[] x = new int[784];
        java.util.Arrays.fill(x, -255);
        assertRowsKernelExact(extreme, x, 7, longest, "every product 255 × −255");
    }

    private static void assertRowsKernelExact(int[][] w, int[] x, int bias, int run, String what) {
        int in = w.length;
        int out = w[0].length;
        float[][] rows = new float[in][out];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                rows[i][o] = w[i][o];
            }
        }
        int[] listed = new int[in];
        int n = 0;
        for (int i = 0; i < in; i++) {
            if (x[i] != 0) {
                listed[n++] = Int8Path.Values.listed(i, x[i]);
            }
        }
        int[] expected = new int[out];
        for (int o = 0; o < out; o++) {
            expected[o] = bias + o;
            for (int i = 0; i < in; i++) {
                expected[o] += x[i] * w[i][o];
            }
        }
        int[] acc = new int[out];
        for (int o = 0; o < out; o++) {
            acc[o] = bias + o;
        }
        Gemm.accumulate(rows, listed, n, run, acc);
        assertArrayEquals(expected, acc, what + ", " + n + " inputs listed");
    }

    /**
     * The non-zero centred codes, with their positions, are exactly {@link Int8Path.Values#centered}'s, in
     * order: from floats (0, −0, NaN and a huge value among them) and from codes of the same range and of
     * another one.
     */
    @Test
    void centeredNonzeroListsTheCentredCodesThatAreNotZero() {
        Random r = new Random(9);
        float[] f = TestModels.gaussian(r, 50, 1);
        f[3] = 0;
        f[4] = -0f;
        f[5] = Float.NaN;
        f[6] = 1e30f;
        Int8Range other = new Int8Range(0.02f, 5);
        byte[] codes = new byte[50];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (i % 4 == 0 ? 5 : r.nextInt(256) - 128);
        }
        for (Int8Range range : new Int8Range[] {new Int8Range(0.01f, -20), new Int8Range(0.05f, -128), other,
                new Int8Range(0.004f, 127)}) {
            for (Int8Path.Values v : new Int8Path.Values[] {new Int8Path.Values(f), new Int8Path.Values(codes, other)}) {
                int[] all = v.centered(range);
                int[] listed = new int[all.length];
                int n = v.centeredNonzero(range, listed);
                int k = 0;
                for (int i = 0; i < all.length; i++) {
                    if (all[i] != 0) {
                        assertEquals(i, Int8Path.Values.listedPosition(listed[k]));
                        assertEquals(all[i], Int8Path.Values.listedCode(listed[k++]));
                    }
                }
                assertEquals(k, n);
            }
        }
    }

    /** Values beyond int range clamp to the ends of int8 whatever the zero point (adding it once wrapped to -128). */
    @Test
    void hugeInputsQuantizeToTheEndsOfTheRange() {
        for (Int8Range range : new Int8Range[] {new Int8Range(0.01f, 127), new Int8Range(0.01f, -128),
                new Int8Range(0.01f, 0)}) {
            assertEquals(127, range.quantize(Float.POSITIVE_INFINITY));
            assertEquals(127, range.quantize(2e31f));
            assertEquals(-128, range.quantize(Float.NEGATIVE_INFINITY));
            assertEquals(-128, range.quantize(-2e31f));
            int[] centered = new Int8Path.Values(new float[] {Float.POSITIVE_INFINITY, 2e31f, -2e31f}).centered(range);
            assertEquals(127 - range.zeroPoint(), centered[0]);
            assertEquals(127 - range.zeroPoint(), centered[1]);
            assertEquals(-128 - range.zeroPoint(), centered[2]);
        }
    }

    /**
     * One int8 depthwise layer (multiplier 2, per-input-channel scales, some weights pruned) with identity
     * output, at stride 1 (the padded-plane loop) and 2 (the generic one), same and explicit padding: each
     * output is scale × the accumulator Σ over taps inside the input of (q(x) − xZero)(w − wZero) plus the
     * bias at that scale, computed here in longs from DL4J's layout [kh, kw, in, multiplier].
     */
    @Test
    void depthwiseAccumulatorsEqualAReferenceInLongs() throws Exception {
        Random r = new Random(23);
        int c = 3;
        int h = 7;
        int wd = 6;
        for (Window win : new Window[] {new Window(3, 3, 1, 1, 0, 0, 1, 1, true), new Window(3, 3, 2, 2, 0, 0, 1, 1,
                true), new Window(3, 2, 1, 1, 1, 0, 1, 1, false), new Window(3, 3, 1, 1, 0, 0, 2, 2, true)}) {
            for (int keepEvery : new int[] {1, 3}) {
                QuantizedTensor w = TestModels.int8("0_W", r, 2, keepEvery, win.kernelH, win.kernelW, c, 2);
                QuantizedTensor b = TestModels.floats("0_b", r, c * 2);
                Int8Range range = new Int8Range(0.02f, 5);
                Op op = Op.depthwiseConv2d(w, b, win, ActivationFunction.IDENTITY, 0).withInputRange(range);
                // alone, its output float: the step itself (a model runs such a depthwise op in float)
                assertEquals("[false]", java.util.Arrays.toString(Int8Path.int8Ops(List.of(op))));
                int oh = (int) win.outputHeight(h);
                int ow = (int) win.outputWidth(wd);
                Int8Path.DepthwiseStep step = new Int8Path.DepthwiseStep(op, new Shape(c, h, wd),
                        new Shape(c * 2, oh, ow), null);
                int[] pad = win.padding(h, wd);
                float[] values = w.dequantize();
                float[] x = TestModels.gaussian(r, c * h * wd, 1);
                float[] out = step.run(new Int8Path.Values(x)).asFloats();
                assertEquals(c * 2 * oh * ow, out.length, win.toString());
                for (int o = 0; o < c * 2; o++) {
                    int ci = o / 2;
                    float wScale = w.scales()[ci];
                    double accScale = (double) range.scale * wScale;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            long acc = Math.round(b.floats()[o] / accScale);
                            for (int ky = 0; ky < win.kernelH; ky++) {
                                for (int kx = 0; kx < win.kernelW; kx++) {
                                    int iy = oy * win.strideH - pad[0] + ky * win.dilationH;
                                    int ix = ox * win.strideW - pad[1] + kx * win.dilationW;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    long code = Math.round(values[((ky * win.kernelW + kx) * c + ci) * 2 + o % 2]
                                            / wScale);
                                    acc += (long) (range.quantize(x[(ci * h + iy) * wd + ix]) - range.zeroPoint)
                                            * code;
                                }
                            }
                            float actual = out[(o * oh + oy) * ow + ox];
                            assertEquals((float) (accScale * acc), actual, Math.abs(actual) * 1e-6f + 1e-9f,
                                    win + " output " + o + " at " + oy + "," + ox);
                        }
                    }
                }
            }
        }
    }

    /** An MLP and a CNN with calibrated ranges: the int8 path picks the float path's class nearly always. */
    @Test
    void int8AndFloatPathsAgreeOnMlpAndCnn() throws Exception {
        Random r = new Random(22);
        // a CNN of two int8 convs with max pooling between (requantized straight to codes) and an int8 dense
        Window same = new Window(3, 3, 1, 1, 0, 0, 1, 1, true);
        ModelDescription cnn = new ModelDescription(new int[] {1, 8, 8}, new Preprocessing(1f / 255, 0), List.of(),
                List.of(Op.conv2d(TestModels.int8("0_W", r, 0, 1, 6, 1, 3, 3), TestModels.floats("0_b", r, 6), same,
                                ActivationFunction.RELU, 0).withInputRange(new Int8Range(1f / 255, -128)),
                        Op.pool(true, new Window(2, 2, 2, 2, 0, 0, 1, 1, false)),
                        Op.conv2d(TestModels.int8("2_W", r, 0, 2, 8, 6, 3, 3), TestModels.floats("2_b", r, 8), same,
                                ActivationFunction.RELU6, 0).withInputRange(new Int8Range(0.004f, -128)),
                        Op.dense(TestModels.int8("3_W", r, 1, 1, 128, 10), TestModels.floats("3_b", r, 10),
                                ActivationFunction.SOFTMAX, 0).withInputRange(new Int8Range(0.0015f, -128))));
        // a mobile block: conv, depthwise 3x3 (identity, requantized straight into the pointwise conv's codes),
        // pointwise 1x1 with ReLU, global average pooling, dense: every weighted op in int8
        ModelDescription mobile = new ModelDescription(new int[] {1, 8, 8}, new Preprocessing(1f / 255, 0), List.of(),
                List.of(Op.conv2d(TestModels.int8("0_W", r, 0, 1, 4, 1, 3, 3), TestModels.floats("0_b", r, 4), same,
                                ActivationFunction.RELU, 0).withInputRange(new Int8Range(1f / 255, -128)),
                        Op.depthwiseConv2d(TestModels.int8("1_W", r, 2, 1, 3, 3, 4, 1), TestModels.floats("1_b", r, 4),
                                same, ActivationFunction.IDENTITY, 0).withInputRange(new Int8Range(0.004f, -128)),
                        Op.conv2d(TestModels.int8("2_W", r, 0, 1, 8, 4, 1, 1), TestModels.floats("2_b", r, 8),
                                new Window(1, 1, 1, 1, 0, 0, 1, 1, false), ActivationFunction.RELU, 0)
                                .withInputRange(new Int8Range(0.0004f, 0)),
                        Op.globalPool(false),
                        Op.dense(TestModels.int8("4_W", r, 1, 1, 8, 10), TestModels.floats("4_b", r, 10),
                                ActivationFunction.SOFTMAX, 0).withInputRange(new Int8Range(0.00002f, -128))));
        assertEquals("[true, true, true, false, true]", java.util.Arrays.toString(Int8Path.int8Ops(mobile.ops())),
                "conv, depthwise, pointwise and dense in int8");
        for (ModelDescription d : new ModelDescription[] {TestModels.mlp(5, 1), TestModels.mlp(6, 4), cnn, mobile}) {
            Model int8 = Model.of(d, "int8");
            assertTrue(int8.supports(Precision.INT8));
            Model fp32 = int8.withPrecision(Precision.FLOAT32);
            int same8 = 0;
            int n = 500;
            for (int e = 0; e < n; e++) {
                float[] raw = new float[int8.inputSize()];
                for (int i = 0; i < raw.length; i++) {
                    raw[i] = r.nextInt(d.preprocessing().scale() < 0.01 ? 256 : 17);
                }
                same8 += int8.classify(raw) == fp32.classify(raw) ? 1 : 0;
            }
            assertTrue(same8 >= 0.95 * n, "same class on " + same8 + " of " + n);
        }
    }

    @Test
    void bothKernelsGiveTheSameOutputsAndAModelWithoutRangesHasNoInt8Path() throws Exception {
        Model m = Model.of(TestModels.mlp(7, 2), "mlp");
        Model scalar = m.withInt8Kernel(Int8Dot.scalar());
        assertEquals("scalar", scalar.int8Kernel());
        Random r = new Random(3);
        for (int e = 0; e < 20; e++) {
            float[] x = TestModels.gaussian(r, 64, 5);
            assertEquals(java.util.Arrays.toString(m.predict(x)), java.util.Arrays.toString(scalar.predict(x)));
        }
        Model cnn = Model.of(TestModels.cnn(1), "cnn");
        assertFalse(cnn.supports(Precision.INT8));
        assertEquals(Precision.FLOAT32, cnn.precision());
    }
}
