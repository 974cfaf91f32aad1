package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The format's pieces: round trips bit for bit, relative indices, Huffman, halves, column order, varints. */
class PackedFormatTest {

    private static List<QuantizedTensor> tensors(ModelDescription d) {
        List<QuantizedTensor> out = new ArrayList<>();
        for (Op op : d.ops()) {
            if (op.weights() != null) {
                out.add(op.weights());
            }
            if (op.bias() != null) {
                out.add(op.bias());
            }
        }
        return out;
    }

    @Test
    void everyOpAndEncodingRoundTripsBitForBitWithAndWithoutHuffman() throws Exception {
        for (ModelDescription d : new ModelDescription[] {TestModels.mlp(1, 1), TestModels.mlp(2, 3),
                TestModels.cnn(3), TestModels.graph(4)}) {
            for (boolean huffman : new boolean[] {false, true}) {
                ModelDescription back = PackedFormat.read(TestModels.packed(d, huffman), "test");
                assertArrayEquals(d.inputShape(), back.inputShape());
                assertEquals(d.classNames(), back.classNames());
                assertEquals(d.preprocessing().scale(), back.preprocessing().scale());
                assertEquals(d.ops().size(), back.ops().size());
                for (int i = 0; i < d.ops().size(); i++) {
                    Op a = d.ops().get(i);
                    Op b = back.ops().get(i);
                    assertEquals(a.toString(), b.toString(), "op " + i);
                    assertEquals(a.alpha, b.alpha);
                    assertEquals(a.inputRange == null, b.inputRange == null);
                    if (a.inputRange != null) {
                        assertTrue(a.inputRange.sameAs(b.inputRange));
                    }
                    if (a.scale != null) {
                        assertArrayEquals(a.scale, b.scale, 0f);
                        assertArrayEquals(a.shift, b.shift, 0f);
                    }
                }
                List<QuantizedTensor> written = tensors(d);
                List<QuantizedTensor> read = tensors(back);
                for (int k = 0; k < written.size(); k++) {
                    assertTrue(written.get(k).sameAs(read.get(k)), written.get(k) + " bit for bit, huffman " + huffman);
                }
            }
        }
    }

    @Test
    void weightsAreStoredAtTheirRealWidth() {
        Random r = new Random(4);
        long[] shape = {256, 64};
        int n = 256 * 64;
        long float32 = TestModels.packed(single(TestModels.floats("0_W", r, shape)), false).length;
        long int8 = TestModels.packed(single(TestModels.int8("0_W", r, 1, 1, shape)), false).length;
        long kmeans = TestModels.packed(single(TestModels.kmeans("0_W", r, shape)), false).length;
        long binary = TestModels.packed(single(TestModels.binary("0_W", r, shape)), false).length;
        assertTrue(float32 > 4L * n && float32 < 4L * n + 200, "float32 " + float32);
        assertTrue(int8 > n && int8 < n + 500, "int8 " + int8);
        assertTrue(kmeans > n / 2 && kmeans < n / 2 + 200, "kmeans 4-bit " + kmeans);
        assertTrue(binary > n / 8 && binary < n / 8 + 200, "binary " + binary);
    }

    private static ModelDescription single(QuantizedTensor w) {
        return new ModelDescription(new int[] {(int) w.shape()[0], 1, 1}, Preprocessing.NONE, List.of(),
                List.of(Op.dense(w, null, ActivationFunction.SOFTMAX, 0)));
    }

    @Test
    void relativeIndicesUseFillersForGapsTheWidthCannotHold() throws Exception {
        int[] positions = {0, 1, 5, 40, 41, 300};
        for (int width = 1; width <= 8; width++) {
            int[] rel = PackedFormat.relativeIndices(positions, width);
            assertArrayEquals(positions, PackedFormat.positionsOf(rel, width, positions.length, 301), "width " + width);
        }
        // width 3: gaps of at most 7; the gap of 35 from 5 to 40 takes four fillers (28) and then 7
        assertArrayEquals(new int[] {0, 0, 3, 7, 7, 7, 7, 6, 0},
                java.util.Arrays.copyOf(PackedFormat.relativeIndices(positions, 3), 9));
    }

    @Test
    void huffmanCodingShrinksASkewedStreamAndDecodesItExactly() throws Exception {
        Random r = new Random(5);
        int[] symbols = new int[5000];
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = Math.min(255, Math.abs((int) (r.nextGaussian() * 6)) + 100);
        }
        Huffman code = Huffman.of(symbols, 256);
        assertTrue(code.codedBits(symbols) + Huffman.tableBits(256) < 8L * symbols.length * 0.6);
        Bits.Writer w = new Bits.Writer();
        code.writeTable(w);
        code.encode(symbols, w);
        Bits.Reader in = new Bits.Reader(w.toByteArray());
        Huffman back = Huffman.readTable(in, 256);
        for (int s : symbols) {
            assertEquals(s, back.decode(in));
        }
    }

    @Test
    void halfPrecisionHoldsWhatItCanExactly() {
        for (float f : new float[] {0f, -0f, 1f, -0.5f, 65504f, 0x1p-14f, 0x1p-24f, -3 * 0x1p-24f, 0.333251953125f}) {
            assertTrue(Half.holds(f), f + " is a half");
            assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits(Half.value(Half.bits(f))), "" + f);
        }
        for (float f : new float[] {0.1f, 1e-9f, 70000f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertFalse(Half.holds(f), f + " is no half");
        }
        assertEquals(0.0999755859375f, Half.round(0.1f)); // the nearest half, 1638.4/16384 rounded down
        assertEquals(1f, Half.round(1.0004f));
        assertEquals(70000f, Half.round(70000f), "beyond half's range a value keeps 32 bits");
    }

    @Test
    void positionsConvertBetweenRowAndColumnOrder() {
        long[] shape = {2, 3, 4, 5};
        int[] positions = java.util.stream.IntStream.range(0, 120).filter(i -> i % 7 != 0).toArray();
        assertEquals(1 + 2 * 2 + 3 * 6 + 4 * 24,
                PackedFormat.toFOrder(new int[] {1 * 60 + 2 * 20 + 3 * 5 + 4}, shape)[0], "(1, 2, 3, 4) in f order");
        assertArrayEquals(positions, PackedFormat.toCOrder(PackedFormat.toFOrder(positions, shape), shape));
    }

    @Test
    void varintsTakeOneByteUpTo127() throws Exception {
        int[] values = {0, 127, 128, 16383, 16384, Integer.MAX_VALUE};
        int[] lengths = {1, 1, 2, 2, 3, 5};
        for (int i = 0; i < values.length; i++) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            PackedFormat.writeVarint(new java.io.DataOutputStream(bytes), values[i]);
            assertEquals(lengths[i], bytes.size(), "" + values[i]);
        }
    }

    @Test
    void aBatchNormFoldsIntoFloatAndPerChannelInt8WeightsAndStaysBeforeOthers() throws Exception {
        Random r = new Random(8);
        float[] scale = TestModels.gaussian(r, 4, 1);
        float[] shift = TestModels.gaussian(r, 4, 0.1);
        Window w = new Window(3, 3, 1, 1, 0, 0, 1, 1, true);
        for (QuantizedTensor weights : new QuantizedTensor[] {TestModels.floats("0_W", r, 4, 2, 3, 3),
                TestModels.int8("0_W", r, 0, 1, 4, 2, 3, 3), TestModels.kmeans("0_W", r, 4, 2, 3, 3)}) {
            ModelDescription d = new ModelDescription(new int[] {2, 5, 5}, Preprocessing.NONE, List.of(), List.of(
                    Op.conv2d(weights, TestModels.floats("0_b", r, 4), w, ActivationFunction.IDENTITY, 0),
                    Op.scaleShift(scale, shift), Op.activation(ActivationFunction.RELU, 0)));
            ModelDescription folded = d.folded();
            boolean foldable = weights.kind() != QuantizedTensor.Kind.KMEANS;
            assertEquals(foldable ? 1 : 3, folded.ops().size(), weights.kind() + ": " + folded.ops());
            Model before = Model.of(d, "unfolded");
            Model after = Model.of(folded, "folded");
            float[] x = TestModels.gaussian(r, 50, 1);
            assertArrayEquals(before.predict(x), after.predict(x), 1e-5f, weights.kind().name());
        }
    }
}
