package dev.distill.core.quant;

import dev.distill.runtime.QuantizedTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Quantize → dequantize error bounds per scheme, per-channel scales, pruned zeros kept. */
class QuantizersTest {

    private static final long[] SHAPE = {64, 16}; // a dense layer's W: 64 inputs, 16 output channels

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // channels of different widths, so per-channel scales matter
            v[i] = (float) (r.nextGaussian() * 0.05 * (1 + i % 16));
        }
        return v;
    }

    @Test
    void linearErrorIsAtMostHalfAStepForEveryBitWidthAndMode() {
        float[] v = gaussian(64 * 16, 1);
        for (int bits : new int[] {2, 4, 8}) {
            for (boolean symmetric : new boolean[] {true, false}) {
                for (int axis : new int[] {-1, 1}) {
                    QuantizedTensor t = Quantizers.linear("0_W", v, SHAPE, axis, bits, symmetric, null);
                    float[] back = t.dequantize();
                    for (int i = 0; i < v.length; i++) {
                        float step = t.scales()[t.channelOf(i)];
                        assertTrue(Math.abs(v[i] - back[i]) <= step / 2 * (1 + 1e-5),
                                bits + " bits, symmetric " + symmetric + ", axis " + axis + ": value " + i + " off by "
                                        + Math.abs(v[i] - back[i]) + ", step " + step);
                    }
                    int lo = symmetric ? -(1 << (bits - 1)) + 1 : -(1 << (bits - 1));
                    for (int c : t.codes()) {
                        assertTrue(c >= lo && c <= (1 << (bits - 1)) - 1, "code " + c + " in " + bits + " bits");
                    }
                }
            }
        }
    }

    @Test
    void perChannelScalesOfAHandMadeMatrix() {
        // W [in 3, out 2], c order: column 0 holds 1.27, -0.5, 0.2; column 1 holds -2.54, 1.0, 0.02
        float[] v = {1.27f, -2.54f, -0.5f, 1.0f, 0.2f, 0.02f};
        QuantizedTensor sym = Quantizers.linear("0_W", v, new long[] {3, 2}, 1, 8, true, null);
        assertArrayEquals(new float[] {1.27f / 127, 2.54f / 127}, sym.scales(), 1e-9f);
        assertArrayEquals(new int[] {127, -127, -50, 50, 20, 1}, sym.codes());
        QuantizedTensor perTensor = Quantizers.linear("0_W", v, new long[] {3, 2}, -1, 8, true, null);
        assertArrayEquals(new float[] {2.54f / 127}, perTensor.scales(), 1e-9f);
        // asymmetric: column 0 spans [-0.5, 1.27] over 255 steps, zero at -128 + round(0.5 / step)
        QuantizedTensor asym = Quantizers.linear("0_W", v, new long[] {3, 2}, 1, 8, false, null);
        float step = 1.77f / 255;
        assertEquals(step, asym.scales()[0], 1e-7f);
        assertEquals(-128 + Math.round(0.5f / step), asym.zeroPoints()[0]);
        assertEquals(0f, asym.value(asym.zeroPoints()[0], 0), "zero is exact");
    }

    @Test
    void kmeansAssignsEveryWeightItsNearestCentroidAndKeepsPrunedZeros() {
        float[] v = gaussian(64 * 16, 2);
        for (int i = 0; i < v.length; i += 3) {
            v[i] = 0; // a third pruned
        }
        int[] positions = Quantizers.nonzeroPositions(v);
        assertNotNull(positions);
        for (QuantSettings.Init init : QuantSettings.Init.values()) {
            QuantizedTensor t = Quantizers.kmeans("0_W", v, SHAPE, 4, init, 7, positions);
            assertEquals(16, t.codebook().length);
            float[] back = t.dequantize();
            double maxGap = 0;
            float[] sorted = t.codebook().clone();
            java.util.Arrays.sort(sorted);
            for (int c = 1; c < sorted.length; c++) {
                maxGap = Math.max(maxGap, sorted[c] - sorted[c - 1]);
            }
            for (int i = 0; i < v.length; i++) {
                if (v[i] == 0) {
                    assertEquals(0f, back[i], "pruned zero " + i + " stays zero");
                    continue;
                }
                for (float c : t.codebook()) {
                    assertTrue(Math.abs(v[i] - back[i]) <= Math.abs(v[i] - c) + 1e-7, init + ": nearest centroid");
                }
                assertTrue(Math.abs(v[i] - back[i]) <= maxGap / 2 + 1e-7, init + ": within half the largest gap");
            }
        }
    }

    @Test
    void binaryIsTheSignTimesTheChannelsMeanAbsoluteValue() {
        float[] v = gaussian(64 * 16, 3);
        QuantizedTensor t = Quantizers.binary("0_W", v, SHAPE, 1, null);
        float[] back = t.dequantize();
        for (int c = 0; c < 16; c++) {
            double sum = 0;
            for (int r = 0; r < 64; r++) {
                sum += Math.abs(v[r * 16 + c]);
            }
            float scale = (float) (sum / 64);
            assertEquals(scale, t.scales()[c], 1e-6f);
            for (int r = 0; r < 64; r++) {
                int i = r * 16 + c;
                assertEquals(v[i] >= 0 ? scale : -scale, back[i], 1e-7f);
                // the error bound of binarisation: | |v| − scale |
                assertEquals(Math.abs(Math.abs(v[i]) - scale), Math.abs(v[i] - back[i]), 1e-6f);
            }
        }
    }
}
