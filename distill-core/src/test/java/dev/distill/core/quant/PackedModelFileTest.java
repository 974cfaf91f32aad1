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
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.InputShape;
import dev.distill.runtime.Int8Range;
import dev.distill.runtime.Model;
import dev.distill.runtime.Op;
import dev.distill.runtime.Preprocessing;
import dev.distill.runtime.QuantizedTensor;
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

/**
 * DL4J networks written packed and read by distill-runtime: tensors bit for bit, sizes at the real width,
 * damaged, foreign and older files (the format's own pieces are tested in distill-runtime).
 */
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

    /** Every tensor of a packed model as the runtime read it, by key. */
    static java.util.Map<String, QuantizedTensor> tensors(Model m) {
        java.util.Map<String, QuantizedTensor> out = new java.util.HashMap<>();
        for (Op op : m.description().ops()) {
            for (QuantizedTensor t : new QuantizedTensor[] {op.weights(), op.bias()}) {
                if (t != null) {
                    out.put(t.key(), t);
                }
            }
        }
        return out;
    }

    private static List<String> digitNames() {
        return List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
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
                    PackedModelFile.write(net, tensors, ranges, huffman, new Preprocessing(1f / 255, 0), digitNames(),
                            file);
                    Model back = PackedModelFile.read(file);
                    String label = how + ", sparsity " + sparsity + ", huffman " + huffman;
                    assertEquals(digitNames(), back.classNames(), label);
                    assertEquals(1f / 255, back.preprocessing().scale(), label);
                    List<Op> ops = back.description().ops();
                    assertEquals(2, ops.size(), label);
                    for (int l = 0; l < 2; l++) {
                        Int8Range r = ops.get(l).inputRange();
                        assertEquals(ranges.get(l).scale(), r.scale(), label);
                        assertEquals(ranges.get(l).zeroPoint(), r.zeroPoint(), label);
                    }
                    java.util.Map<String, QuantizedTensor> read = tensors(back);
                    for (QuantizedTensor t : tensors) {
                        assertTrue(t.sameAs(read.get(t.key())), label + ": tensor " + t.key() + " bit for bit");
                    }
                    assertArrayEquals(PackedModelFile.values(net.getParam("0_b")), read.get("0_b").floats(), 0f,
                            label + ": biases stay float32");
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
        Path float32 = dir.resolve("float32.packed");
        PackedModelFile.write(net, quantize(net, "int8"), List.of(), false, Preprocessing.NONE, List.of(), int8);
        PackedModelFile.write(net, quantize(net, "kmeans"), List.of(), false, Preprocessing.NONE, List.of(), kmeans);
        PackedModelFile.write(net, quantize(net, "binary"), List.of(), false, Preprocessing.NONE, List.of(), binary);
        PackedModelFile.write(net, List.of(), List.of(), false, Preprocessing.NONE, List.of(), float32);
        // 25,408 weights at 8, 4 and 1 bits; 42 float32 biases; scales, codebooks and ~100 bytes of header
        assertTrue(Files.size(int8) < 0.26 * floatBytes, "int8: " + Files.size(int8) + " of " + floatBytes);
        assertTrue(Files.size(kmeans) < 0.135 * floatBytes, "kmeans 4-bit: " + Files.size(kmeans));
        assertTrue(Files.size(binary) < 0.045 * floatBytes, "binary: " + Files.size(binary));
        assertTrue(Files.size(float32) < floatBytes + 200, "float32: " + Files.size(float32));
        // the DL4J readers refuse a packed file in one line: only the runtime runs it
        DistillException e = assertThrows(DistillException.class, () -> dev.distill.core.modelfile.ModelReader.network(int8));
        assertTrue(e.getMessage().startsWith(int8 + ": a packed model runs on distill-runtime"), e.getMessage());
    }

    @Test
    void damagedTruncatedForeignAndOlderFilesGiveOneLineErrors() throws Exception {
        MultiLayerNetwork net = mlp(0.5);
        Path good = dir.resolve("good.packed");
        PackedModelFile.write(net, quantize(net, "kmeans"), List.of(), true, Preprocessing.NONE, List.of(), good);
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
        newer[9] = 5;
        assertError(write("newer.packed", newer), "packed model format version 5, this runtime reads versions 3 and 4 (a "
                + "newer distill wrote it: update distill-runtime)");
        byte[] older = bytes.clone();
        older[9] = 2;
        assertError(write("older.packed", older), "packed model format version 2, this runtime reads versions 3 and 4 (write"
                + " it again: re-run the quantize stage, or ./distill export on the model's .zip or .sparse file)");
        Path zip = dir.resolve("model.zip");
        ModelFiles.saveForShipping(net, zip);
        assertFalse(PackedModelFile.isPackedFile(zip));
        assertError(zip, "not a packed model file (no DSTLPACK header)");
    }

    @Test
    void aTensorPrunedByColumnsIsStoredAsSmallAsOnePrunedByRows() throws Exception {
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
            PackedModelFile.write(net, List.of(t), List.of(), false, Preprocessing.NONE, List.of(), file);
            assertTrue(t.sameAs(tensors(PackedModelFile.read(file)).get("0_W")), "round trip " + k);
            sizes[k++] = Files.size(file);
        }
        assertEquals(sizes[0], sizes[1], 2, "columns cost what rows cost");
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
