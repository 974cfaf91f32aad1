package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** CSR/CSC round trips, index widths, sizes against DL4J's zip, damaged files. */
class SparseModelFileTest {

    @TempDir
    Path dir;

    /** The MLP student's shape: 784 → 32 → 10, magnitude-pruned. */
    static MultiLayerNetwork prunedMlp(double sparsity) {
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(32, 10), InputShape.flat(784), new Adam(1e-3), 0, 9);
        List<Prunable> tensors = Prunable.of(net, false, false);
        MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, sparsity).applyTo(net);
        return net;
    }

    static INDArray input(int rows, int features) {
        return Nd4j.rand(DataType.FLOAT, rows, features);
    }

    @Test
    void roundTripGivesTheSameParametersAndOutputs() {
        MultiLayerNetwork net = prunedMlp(0.8);
        Path file = dir.resolve("student.sparse");
        SparseModelFile.write(net, file);
        assertTrue(SparseModelFile.isSparseFile(file));
        MultiLayerNetwork back = SparseModelFile.read(file);
        assertEquals(net.params(), back.params(), "every parameter, bit for bit");
        INDArray x = input(50, 784);
        assertEquals(net.output(x, false), back.output(x, false));
    }

    @Test
    void atEightyAndNinetyPercentTheFileIsFarSmallerThanTheDenseZip() {
        Path unpruned = dir.resolve("dense.zip");
        ModelFiles.saveForShipping(prunedMlp(0), unpruned);
        for (double sparsity : new double[] {0.8, 0.9}) {
            MultiLayerNetwork net = prunedMlp(sparsity);
            Path sparse = dir.resolve("s" + sparsity + ".sparse");
            Path zip = dir.resolve("s" + sparsity + ".zip");
            List<SparseModelFile.TensorLayout> layouts = SparseModelFile.write(net, sparse);
            ModelFiles.saveForShipping(net, zip);
            long sparseBytes = size(sparse);
            assertTrue(sparseBytes < 0.4 * size(unpruned), sparsity + ": " + sparseBytes + " vs the unpruned zip "
                    + size(unpruned));
            // DL4J's zip deflates the zeros of a pruned network too: ours must still be smaller
            assertTrue(sparseBytes < size(zip), sparsity + ": " + sparseBytes + " vs its own zip " + size(zip));
            SparseModelFile.TensorLayout w = layouts.get(0);
            assertEquals("0_W", w.key());
            // 784 rows of 32 columns: CSR with one-byte column indices and two-byte row pointers
            assertEquals(SparseModelFile.Encoding.CSR, w.encoding());
            assertEquals(1, w.indexBytes());
            assertEquals(2L * 785 + 5L * w.nonzero(), w.storedBytes());
            assertEquals(4L * 784 * 32, w.denseBytes());
            // the unpruned output layer stays dense
            assertEquals(SparseModelFile.Encoding.DENSE, layouts.get(2).encoding());
        }
    }

    @Test
    void cscIsChosenWhereItIsSmaller() {
        // conv weights [filters=2, channels=1, 3, 3] seen as 2 rows of 9: one non-zero per column is
        // cheaper by column; dense [4, 300] W with its non-zeros in one column also
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(300, 3), InputShape.flat(4), new Adam(1e-3), 0, 2);
        INDArray w = Nd4j.zeros(DataType.FLOAT, 4, 300);
        w.putScalar(0, 7, 1.5f);
        w.putScalar(3, 7, -2.5f);
        net.setParam("0_W", w);
        List<SparseModelFile.TensorLayout> layouts = SparseModelFile.layout(net);
        // CSR: 5 one-byte pointers + 2 two-byte indices; CSC: 301 one-byte pointers + 2 one-byte indices
        assertEquals(SparseModelFile.Encoding.CSR, layouts.get(0).encoding());
        INDArray tall = Nd4j.zeros(DataType.FLOAT, 300, 3);
        MultiLayerNetwork wide = NetworkFactory.build(new ModelSpec(List.of(new LayerSpec.Dense(3, Activation.RELU),
                new LayerSpec.Output(3))), InputShape.flat(300), new Adam(1e-3), 0, 2);
        tall.putScalar(299, 1, 4f);
        wide.setParam("0_W", tall);
        SparseModelFile.TensorLayout l = SparseModelFile.layout(wide).get(0);
        // CSR: 301 pointers + 1 index; CSC: 4 pointers + one two-byte row index
        assertEquals(SparseModelFile.Encoding.CSC, l.encoding());
        assertEquals(2, l.indexBytes());
        Path file = dir.resolve("csc.sparse");
        SparseModelFile.write(wide, file);
        assertEquals(wide.params(), SparseModelFile.read(file).params());
    }

    @Test
    void convNetworksRoundTrip() {
        ModelSpec spec = new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2), new LayerSpec.Dense(8, Activation.RELU),
                new LayerSpec.Output(3)));
        MultiLayerNetwork net = NetworkFactory.build(spec, InputShape.image(6, 6, 1), new Adam(1e-3), 0, 4);
        MagnitudePruner.masks(net, Prunable.of(net, false, false), MagnitudePruner.Scope.GLOBAL, 0.85).applyTo(net);
        Path file = dir.resolve("cnn.sparse");
        SparseModelFile.write(net, file);
        MultiLayerNetwork back = SparseModelFile.read(file);
        INDArray x = input(7, 36);
        assertEquals(net.output(x, false), back.output(x, false));
    }

    @Test
    void aDamagedOrForeignFileIsAClearError() throws Exception {
        Path file = dir.resolve("m.sparse");
        SparseModelFile.write(prunedMlp(0.5), file);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Path damaged = dir.resolve("damaged.sparse");
        Files.write(damaged, bytes);
        DistillException e = assertThrows(DistillException.class, () -> SparseModelFile.read(damaged));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        Path zip = dir.resolve("m.zip");
        ModelFiles.saveForShipping(prunedMlp(0.5), zip);
        assertFalse(SparseModelFile.isSparseFile(zip));
        assertThrows(DistillException.class, () -> SparseModelFile.read(zip));
    }

    @Test
    void indexWidthsAreTheNarrowestThatFit() {
        assertEquals(1, SparseModelFile.width(255));
        assertEquals(2, SparseModelFile.width(256));
        assertEquals(2, SparseModelFile.width(65_535));
        assertEquals(4, SparseModelFile.width(65_536));
    }

    static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
