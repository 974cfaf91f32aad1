package dev.distill.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.MagnitudePruner;
import dev.distill.core.prune.Prunable;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.testing.TinyData;
import dev.distill.models.build.NetworkFactory;
import dev.distill.models.spec.InputShape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** Round trips bit for bit, sizes at the real width, relative indices, Huffman, damaged and foreign files. */
class PackedModelFileTest {

    @TempDir
    Path dir;

    /** The MLP student's shape, 784 → 32 → 10, optionally magnitude-pruned. */
    static MultiLayerNetwork mlp(double sparsity) {
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(32, 10), InputShape.flat(784), new Adam(1e-3), 0, 9);
        if (sparsity > 0) {
            MagnitudePruner.masks(net, Prunable.of(net, false, false), MagnitudePruner.Scope.LAYER, sparsity)
                    .applyTo(net);
        }
        return net;
    }

    /** Every weight tensor quantized as {@code how} says; positions of non-zeros when there are zeros. */
    static List<QuantizedTensor> quantize(MultiLayerNetwork net, String how) {
        List<QuantizedTensor> out = new ArrayList<>();
        for (Prunable p : Prunable.of(net, false, true)) {
            INDArray w = net.getParam(p.key());
            float[] v = PackedModelFile.values(w);
            int[] pos = Quantizers.nonzeroPositions(v);
            out.add(switch (how) {
                case "int8" -> Quantizers.linear(p.key(), v, w.shape(), 1, 8, true, pos);
                case "int8-asym" -> Quantizers.linear(p.key(), v, w.shape(), -1, 8, false, pos);
                case "kmeans" -> Quantizers.kmeans(p.key(), v, w.shape(), 4, QuantSettings.Init.LINEAR, 1, pos);
                default -> Quantizers.binary(p.key(), v, w.shape(), 1, pos);
            });
        }
        return out;
    }

    @Test
    void roundTripIsBitExactForEverySchemeWithAndWithoutHuffmanAndPruning() {
        for (String how : new String[] {"int8", "int8-asym", "kmeans", "binary"}) {
            for (double sparsity : new double[] {0, 0.8}) {
                for (boolean huffman : new boolean[] {false, true}) {
                    MultiLayerNetwork net = mlp(sparsity);
                    List<QuantizedTensor> tensors = quantize(net, how);
                    List<ActivationCalibration.Range> ranges = List.of(new ActivationCalibration.Range(0, 0.01f, -128),
                            new ActivationCalibration.Range(1, 0.05f, -3));
                    Path file = dir.resolve(how + sparsity + huffman + ".packed");
                    PackedModelFile.write(net, tensors, ranges, huffman, file);
                    PackedModelFile.Packed back = PackedModelFile.read(file);
                    String label = how + ", sparsity " + sparsity + ", huffman " + huffman;
                    assertTrue(back.compactArchitecture(), label + ": a dense network gets the compact architecture");
                    assertEquals(ranges, back.activations(), label);
                    for (QuantizedTensor t : tensors) {
                        QuantizedTensor read = back.tensors().stream().filter(r -> r.key().equals(t.key()))
                                .findFirst().orElseThrow();
                        assertTrue(t.sameAs(read), label + ": tensor " + t.key() + " bit for bit");
                        assertArrayEquals(t.dequantize(), PackedModelFile.values(back.net().getParam(t.key())), 0f,
                                label);
                    }
                    assertArrayEquals(PackedModelFile.values(net.getParam("0_b")),
                            PackedModelFile.values(back.net().getParam("0_b")), 0f, label + ": biases stay float32");
                }
            }
        }
    }

    @Test
    void theFileStoresWeightsAtTheirRealWidth() throws Exception {
        MultiLayerNetwork net = mlp(0);
        long floatBytes = 4L * net.numParams();
        Path int8 = dir.resolve("int8.packed");
        Path kmeans = dir.resolve("kmeans.packed");
        Path binary = dir.resolve("binary.packed");
        PackedModelFile.write(net, quantize(net, "int8"), List.of(), false, int8);
        PackedModelFile.write(net, quantize(net, "kmeans"), List.of(), false, kmeans);
        PackedModelFile.write(net, quantize(net, "binary"), List.of(), false, binary);
        // 25,408 weights at 8, 4 and 1 bits; 42 float32 biases; scales, codebooks and ~300 bytes of header
        assertTrue(Files.size(int8) < 0.26 * floatBytes, "int8: " + Files.size(int8) + " of " + floatBytes);
        assertTrue(Files.size(kmeans) < 0.135 * floatBytes, "kmeans 4-bit: " + Files.size(kmeans));
        assertTrue(Files.size(binary) < 0.045 * floatBytes, "binary: " + Files.size(binary));
        // SparseModelFile.load (what evaluate, report and bench use) reads packed files too
        assertEquals(PackedModelFile.read(int8).net().params(), SparseModelFile.load(int8).params());
    }

    @Test
    void relativeIndicesUseFillersForGapsTheWidthCannotHold() throws Exception {
        int[] positions = {0, 1, 5, 40, 41, 300};
        for (int width = 1; width <= 8; width++) {
            int[] rel = PackedModelFile.relativeIndices(positions, width);
            assertArrayEquals(positions, PackedModelFile.positionsOf(rel, width, positions.length, 301), "width " + width);
        }
        // width 3: gaps of at most 7; the gap of 35 from 5 to 40 takes four fillers (28) and then 7
        assertArrayEquals(new int[] {0, 0, 3, 7, 7, 7, 7, 6, 0}, java.util.Arrays.copyOf(
                PackedModelFile.relativeIndices(positions, 3), 9));
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
    void damagedTruncatedForeignAndNewerFilesGiveOneLineErrors() throws Exception {
        MultiLayerNetwork net = mlp(0.5);
        Path good = dir.resolve("good.packed");
        PackedModelFile.write(net, quantize(net, "kmeans"), List.of(), true, good);
        byte[] bytes = Files.readAllBytes(good);

        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x10;
        assertError(write("flipped.packed", flipped), "checksum mismatch");
        assertError(write("truncated.packed", java.util.Arrays.copyOf(bytes, bytes.length - 100)),
                "truncated packed model file: " + (bytes.length - 100) + " of " + bytes.length + " bytes");
        assertError(write("short.packed", java.util.Arrays.copyOf(bytes, 10)), "truncated packed model file");
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 3);
        assertError(write("longer.packed", longer), "3 bytes after the end");
        byte[] newer = bytes.clone();
        newer[9] = 3;
        assertError(write("newer.packed", newer), "packed model format version 3, this reader knows 2");
        byte[] older = bytes.clone();
        older[9] = 1;
        assertError(write("older.packed", older), "packed model format version 1, this reader knows 2 (re-run the "
                + "quantize stage to write it again)");
        Path zip = dir.resolve("model.zip");
        ModelFiles.saveForShipping(net, zip);
        assertFalse(PackedModelFile.isPackedFile(zip));
        assertError(zip, "not a packed model file (no DSTLPACK header)");
    }

    @Test
    void halfPrecisionHoldsWhatItCanExactlyAndTheFileStoresSuchFloatsInTwoBytes() throws Exception {
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

        MultiLayerNetwork net = mlp(0);
        List<QuantizedTensor> tensors = quantize(net, "kmeans");
        for (String bias : new String[] {"0_b", "1_b"}) {
            net.getParam(bias).addi(0.01); // a fresh network's biases are zero, which any width holds
        }
        Path full = dir.resolve("full.packed");
        PackedModelFile.write(net, tensors, List.of(), false, full);
        List<QuantizedTensor> halves = new ArrayList<>();
        for (QuantizedTensor t : tensors) {
            halves.add(t.withCodebook(Half.round(t.codebook())));
        }
        for (String bias : new String[] {"0_b", "1_b"}) {
            INDArray b = net.getParam(bias);
            net.setParam(bias, Nd4j.create(Half.round(PackedModelFile.values(b)), b.shape(), 'c'));
        }
        Path half = dir.resolve("half.packed");
        PackedModelFile.write(net, halves, List.of(), false, half);
        // two bytes saved on each of 42 biases and 2 × 16 centroids
        assertEquals(Files.size(full) - 2 * (42 + 32), Files.size(half));
        PackedModelFile.Packed back = PackedModelFile.read(half);
        for (QuantizedTensor t : halves) {
            assertTrue(back.tensors().stream().anyMatch(t::sameAs), t.key() + " bit for bit");
        }
        assertArrayEquals(PackedModelFile.values(net.getParam("0_b")), PackedModelFile.values(back.net().getParam("0_b")),
                0f);
    }

    @Test
    void aTensorPrunedByColumnsIsStoredColumnMajorAsSmallAsOnePrunedByRows() throws Exception {
        long[] shape = {2, 3, 4, 5};
        int[] positions = java.util.stream.IntStream.range(0, 120).filter(i -> i % 7 != 0).toArray();
        int[] f = PackedModelFile.toFOrder(positions, shape);
        assertEquals(1 + 2 * 2 + 3 * 6 + 4 * 24, PackedModelFile.toFOrder(new int[] {1 * 60 + 2 * 20 + 3 * 5 + 4},
                shape)[0], "c index of (1, 2, 3, 4) in f order");
        assertArrayEquals(positions, PackedModelFile.toCOrder(f, shape));

        // [64, 16] weights: keeping 4 of 16 columns leaves a gap every 4 values in c order, none column-major
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(16, 10), InputShape.flat(64), new Adam(1e-3), 0, 9);
        long[] w = {64, 16};
        int[] byRows = java.util.stream.IntStream.range(0, 1024).filter(i -> i < 256).toArray();
        int[] byColumns = java.util.stream.IntStream.range(0, 1024).filter(i -> i % 16 < 4).toArray();
        long[] sizes = new long[2];
        int k = 0;
        for (int[] kept : new int[][] {byRows, byColumns}) {
            float[] v = new float[1024];
            Random r = new Random(3);
            for (int i : kept) {
                v[i] = (float) r.nextGaussian() + 3;
            }
            QuantizedTensor t = Quantizers.kmeans("0_W", v, w, 4, QuantSettings.Init.LINEAR, 1, kept);
            Path file = dir.resolve("pruned" + k + ".packed");
            PackedModelFile.write(net, List.of(t), List.of(), false, file);
            assertTrue(t.sameAs(PackedModelFile.read(file).tensors().get(0)), "round trip " + k);
            sizes[k++] = Files.size(file);
        }
        assertEquals(sizes[0], sizes[1], 2, "columns cost what rows cost");
        int cOrderBits = PackedModelFile.bestIndexBits(byColumns, false);
        assertTrue(PackedModelFile.indexBitsCost(byColumns, cOrderBits, false) > 8 * 100,
                "in c order the column pattern's indices alone would take over 100 bytes, column-major 32");
    }

    @Test
    void theArchitectureDeflatesWithAPresetDictionaryToAFewDozenBytes() throws Exception {
        String json = Architecture.compact(mlp(0));
        byte[] deflated = PackedModelFile.deflate(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(deflated.length < 30, json.length() + " characters of JSON in " + deflated.length + " bytes");
        assertEquals(json, new String(PackedModelFile.inflate(deflated), java.nio.charset.StandardCharsets.UTF_8));
        byte[] cut = java.util.Arrays.copyOf(deflated, deflated.length / 2);
        assertThrows(java.io.IOException.class, () -> PackedModelFile.inflate(cut));
    }

    @Test
    void varintsTakeOneByteUpTo127AndADamagedOneIsAnError() throws Exception {
        int[] values = {0, 127, 128, 16383, 16384, Integer.MAX_VALUE};
        int[] lengths = {1, 1, 2, 2, 3, 5};
        for (int i = 0; i < values.length; i++) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            PackedModelFile.writeVarint(new java.io.DataOutputStream(bytes), values[i]);
            assertEquals(lengths[i], bytes.size(), "" + values[i]);
            assertEquals(values[i], PackedModelFile.readVarint(new java.io.DataInputStream(
                    new java.io.ByteArrayInputStream(bytes.toByteArray()))));
        }
        byte[] endless = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0x7F};
        assertThrows(java.io.IOException.class, () -> PackedModelFile.readVarint(new java.io.DataInputStream(
                new java.io.ByteArrayInputStream(endless))));
    }

    private Path write(String name, byte[] bytes) throws Exception {
        return Files.write(dir.resolve(name), bytes);
    }

    private static void assertError(Path file, String expected) {
        DistillException e = assertThrows(DistillException.class, () -> PackedModelFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    static INDArray input(int rows) {
        return Nd4j.rand(DataType.FLOAT, rows, 784);
    }
}
