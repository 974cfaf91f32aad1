package dev.distill.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.InputShape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Shipped model files: plain DL4J zips without training state, written atomically. */
class ModelFilesTest {

    static final LabeledData DATA = TinyData.blobs(200, 6, 3, 31);

    /** A student trained (a few steps) with the distillation loss, so it has an updater state. */
    static MultiLayerNetwork distilledStudent() {
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(8, 3), InputShape.flat(6), new Adam(1e-2), 0, 32,
                new DistillationLoss(2, 0.5, 0.5));
        Nd4j.getRandom().setSeed(33);
        INDArray wide = DistillationLoss.labels(DATA.oneHot(), Nd4j.randn(DataType.FLOAT, DATA.size(), 3));
        for (int i = 0; i < 5; i++) {
            net.fit(DATA.features(), wide);
        }
        return net;
    }

    private static List<String> entries(Path zip) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipFile file = new ZipFile(zip.toFile())) {
            file.stream().map(ZipEntry::getName).forEach(names::add);
        }
        return names;
    }

    @Test
    void shippedModelLoadsWithCrossEntropyAndGivesTheSameOutputs(@TempDir Path dir) throws Exception {
        MultiLayerNetwork student = distilledStudent();
        Path file = dir.resolve("student.zip");
        ModelFiles.saveForShipping(student, file);

        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false);
        BaseOutputLayer out = (BaseOutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertInstanceOf(LossMCXENT.class, out.getLossFn());
        assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
        assertEquals(student.params(), restored.params());
        assertEquals(student.output(DATA.features(), false), restored.output(DATA.features(), false));
        // the original keeps training with its own loss
        BaseOutputLayer original = (BaseOutputLayer) student.getLayerWiseConfigurations().getConf(1).getLayer();
        assertInstanceOf(DistillationLoss.class, original.getLossFn());
    }

    @Test
    void shippedModelHoldsNoUpdaterState(@TempDir Path dir) throws Exception {
        MultiLayerNetwork student = distilledStudent();
        Path shipped = dir.resolve("shipped.zip");
        Path checkpoint = dir.resolve("checkpoint.zip");
        ModelFiles.saveForShipping(student, shipped);
        ModelSerializer.writeModel(student, checkpoint.toFile(), true);

        assertTrue(entries(checkpoint).contains("updaterState.bin"), "control: " + entries(checkpoint));
        assertFalse(entries(shipped).contains("updaterState.bin"), String.valueOf(entries(shipped)));
        assertTrue(entries(shipped).contains("coefficients.bin"), String.valueOf(entries(shipped)));
        // Adam keeps two values per parameter: the checkpoint is clearly the bigger file
        assertTrue(Files.size(shipped) < Files.size(checkpoint),
                Files.size(shipped) + " bytes shipped vs " + Files.size(checkpoint) + " with the updater");
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(shipped.toFile(), true);
        assertTrue(restored.getUpdater() == null || restored.getUpdater().getStateViewArray() == null
                || restored.getUpdater().getStateViewArray().sumNumber().doubleValue() == 0,
                "no Adam moments come back");
    }

    @Test
    void savingCreatesMissingDirectoriesAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("runs/a/student.zip");
        ModelFiles.saveForShipping(distilledStudent(), file);
        assertTrue(Files.isRegularFile(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void writeAtomicallyReplacesTheTargetAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("model.zip");
        Files.writeString(target, "old");
        List<Path> seen = new ArrayList<>();
        ModelFiles.writeAtomically(target, tmp -> {
            seen.add(tmp);
            assertEquals(dir, tmp.getParent(), "temporary file in the same directory (atomic rename)");
            assertEquals("old", Files.readString(target), "the target is untouched while writing");
            Files.writeString(tmp, "new");
        });
        assertEquals("new", Files.readString(target));
        assertFalse(Files.exists(seen.get(0)));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void failedWriteKeepsTheOldFileAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("model.zip");
        Files.writeString(target, "old");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ModelFiles.writeAtomically(target,
                tmp -> {
                    Files.write(tmp, "half".getBytes(StandardCharsets.UTF_8));
                    throw new IOException("disk full");
                }));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }
}
