package dev.distill.runner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.models.network.NetworkFactory;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.testing.CliRun;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Adam;

/** {@code distill export}: .zip and .sparse students to packed files that distill-runtime loads. */
class ExportCommandTest {

    private static final String DIGITS = CliRun.repoFile("configs/digits-takd.yaml").toString();

    private static MultiLayerNetwork student(String name) {
        ExperimentConfig config = ConfigLoader.load(Path.of(DIGITS));
        ModelConfig.Declared declared = (ModelConfig.Declared) config.models().get(name);
        return NetworkFactory.build(declared.spec(), config.data().input(), new Adam(1e-3), 0, 3);
    }

    @Test
    void aZipAndASparseStudentBecomePackedFilesInFloatAndInt8(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("student.zip");
        ModelFiles.saveForShipping(student("student"), zip);
        Path sparse = dir.resolve("teacher.sparse");
        SparseModelFile.write(student("teacher"), sparse);

        CliRun run = CliRun.of("export", zip.toString(), "--data", DIGITS);
        assertEquals(0, run.code(), run.err());
        Path packed = dir.resolve("student.packed");
        assertTrue(run.out().startsWith("wrote " + packed + ": "), run.out());
        assertTrue(run.out().contains("distill-runtime float32: test accuracy"), run.out());
        assertTrue(run.out().contains("same class as DL4J on 100.00%"), run.out());
        Model m = Model.load(packed);
        assertEquals(Precision.FLOAT32, m.precision());
        assertEquals(1f / 16, m.preprocessing().scale(), "the digits files' pixels are 0..16");

        run = CliRun.of("export", sparse.toString(), "--data", DIGITS, "--int8", "--huffman");
        assertEquals(0, run.code(), run.err());
        Path int8 = dir.resolve("teacher-int8.packed");
        Model conv = Model.load(int8);
        assertEquals(Precision.INT8, conv.precision(), "the conv teacher runs its conv and dense layers in int8");
        assertTrue(run.out().contains("distill-runtime int8: test accuracy"), run.out());
        assertTrue(Files.size(int8) < 0.3 * Files.size(dir.resolve("teacher.sparse")) + 1000, "int8 is about a quarter");
    }

    @Test
    void aZooGraphStudentExportsInFloat32AndIsRefusedInInt8(@TempDir Path dir) throws Exception {
        ExperimentConfig config = ConfigLoader.load(Path.of(DIGITS));
        Path zip = dir.resolve("resnet.zip");
        ModelFiles.saveForShipping(dev.distill.models.network.Networks.build(
                dev.distill.models.zoo.Zoo.spec("resnet-tiny", 0.5, 1, 10), config.data().input(), new Adam(1e-3), 0, 3,
                new org.nd4j.linalg.lossfunctions.impl.LossMCXENT()), zip);
        CliRun run = CliRun.of("export", zip.toString(), "--data", DIGITS);
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("same class as DL4J on 100.00%"), run.out());
        assertTrue(Model.load(dir.resolve("resnet.packed")).description().ops().stream()
                .anyMatch(op -> op.kind() == dev.distill.runtime.Op.Kind.ADD), "the residual add is an op");
        CliRun int8 = CliRun.of("export", zip.toString(), "--data", DIGITS, "--int8");
        assertEquals(2, int8.code());
        assertEquals("error: " + zip + ": int8 export of graph models is not supported yet (export it without --int8:"
                + " float32)", int8.err().strip());
    }

    @Test
    void badInputIsOneLine(@TempDir Path dir) throws Exception {
        CliRun missing = CliRun.of("export", dir.resolve("none.zip").toString(), "--data", DIGITS);
        assertEquals(2, missing.code());
        assertEquals("error: " + dir.resolve("none.zip") + ": model file not found", missing.err().strip());
        Path zip = dir.resolve("student.zip");
        ModelFiles.saveForShipping(student("student"), zip);
        CliRun format = CliRun.of("export", zip.toString(), "--data", DIGITS, "--format", "tflite");
        assertEquals(2, format.code());
        assertEquals("error: --format: unknown format 'tflite' (expected one of: packed, onnx)", format.err().strip());
        CliRun int8Onnx = CliRun.of("export", zip.toString(), "--format", "onnx", "--int8");
        assertEquals(2, int8Onnx.code());
        assertTrue(int8Onnx.err().strip().startsWith("error: --int8 applies to --format packed"), int8Onnx.err());
        CliRun noData = CliRun.of("export", zip.toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("--data CONFIG is needed for --format packed"), noData.err());
    }
}
