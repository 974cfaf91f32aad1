package dev.distill.runner.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.LayerSpec.PoolType;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.zoo.Zoo;
import dev.distill.onnx.OnnxExporter;
import dev.distill.onnx.OrtRun;
import dev.distill.runner.data.Datasets;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import onnx.Onnx.ModelProto;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * {@code distill export} and the {@code {type: export, format: onnx}} stage through the command line
 * on the shipped digits.
 */
class OnnxExportCliTest {

    @TempDir
    static Path temp;

    static Path graphZip;

    @BeforeAll
    static void aSavedGraphStudent() {
        LabeledData digits = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0).first();
        Network net = Networks.build(Zoo.spec("mobilenet-tiny", 0.25, 1, 10), InputShape.image(8, 8, 1),
                new Adam(0.01), 0, 1, new LossMCXENT());
        for (int i = 0; i < 3; i++) {
            net.fit(new DataSet(digits.features(), digits.oneHot()));
        }
        graphZip = temp.resolve("mobile.zip");
        ModelFiles.saveForShipping(net, graphZip);
    }

    @Test
    void exportWritesTheOnnxFileBesideTheModelWithTheDataScaleAndChecksItOnTheTestSplit() throws Exception {
        CliRun r = CliRun.of("export", graphZip.toString(), "--format", "onnx", "--data",
                CliRun.repoFile("configs/digits-takd.yaml").toString());
        assertEquals(0, r.code(), r.err());
        Path onnx = temp.resolve("mobile.onnx");
        assertTrue(r.out().contains(onnx + ": written"), r.out());
        assertTrue(r.out().contains("on 359 test examples: same class 100.00%"), r.out());
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        Map<String, String> meta = model.getMetadataPropsList().stream()
                .collect(Collectors.toMap(e -> e.getKey(), e -> e.getValue()));
        assertEquals(Double.toString(1.0 / 16), meta.get(OnnxExporter.META_SCALE));
        assertEquals("image 1x8x8 (channels x height x width), flattened channels first", meta.get(OnnxExporter.META_INPUT));
    }

    @Test
    void exportWithOutToAnotherFileAndNoData() {
        Path out = temp.resolve("elsewhere.onnx");
        CliRun r = CliRun.of("export", graphZip.toString(), "--format", "onnx", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out));
        assertTrue(r.out().contains("not compared with DL4J"), r.out());
    }

    @Test
    void aFileThatIsNotAModelIsOneLineExitTwoAndNothingWritten() throws Exception {
        Path bad = temp.resolve("notes.zip");
        Files.writeString(bad, "not a model");
        CliRun r = CliRun.of("export", bad.toString(), "--format", "onnx");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: " + bad + ": not a model file"), r.err());
        assertFalse(Files.exists(temp.resolve("notes.onnx")));
    }

    /**
     * A sequential digits student trained briefly, made an int8 packed file by {@code distill export --int8},
     * then that file exported to ONNX from distill-runtime's ops: checked by the command against the
     * runtime's float path, its int8 weights as DequantizeLinear, its metadata the file's preprocessing.
     */
    @Test
    void aPackedInt8FileExportsWithItsWeightsAsInt8CodesAndMatchesTheRuntimesFloatPath() throws Exception {
        LabeledData digits = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0).first();
        Network net = Networks.build(new ModelSpec(List.of(
                new LayerSpec.Conv2d(4, 3, 1, Padding.SAME, Activation.RELU), new LayerSpec.Pool(PoolType.MAX, 2, 2),
                new LayerSpec.Dense(16, Activation.RELU), new LayerSpec.Output(10))), InputShape.image(8, 8, 1),
                new Adam(0.01), 0, 1, new LossMCXENT());
        for (int i = 0; i < 5; i++) {
            net.fit(new DataSet(digits.features(), digits.oneHot()));
        }
        Path zip = temp.resolve("cnn.zip");
        ModelFiles.saveForShipping(net, zip);
        String config = CliRun.repoFile("configs/digits-takd.yaml").toString();
        CliRun packed = CliRun.of("export", zip.toString(), "--data", config, "--int8");
        assertEquals(0, packed.code(), packed.err());
        Path int8 = temp.resolve("cnn-int8.packed");

        CliRun r = CliRun.of("export", int8.toString(), "--format", "onnx", "--data", config);
        assertEquals(0, r.code(), r.err());
        Path onnx = temp.resolve("cnn-int8.onnx");
        assertTrue(r.out().contains(onnx + ": written"), r.out());
        assertTrue(r.out().contains("ONNX Runtime vs distill-runtime float32 on 359 test examples: same class 100.00%"),
                r.out());
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        assertEquals(3, model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("DequantizeLinear"))
                .count(), "conv, dense and output weights as int8 codes");
        Map<String, String> meta = model.getMetadataPropsList().stream()
                .collect(Collectors.toMap(e -> e.getKey(), e -> e.getValue()));
        assertEquals(1f / 16, Float.parseFloat(meta.get(OnnxExporter.META_SCALE)));
        assertEquals("image 1x8x8 (channels x height x width), flattened channels first", meta.get(OnnxExporter.META_INPUT));
        assertEquals("digits", meta.get("distill.dataset"));

        Path elsewhere = temp.resolve("cnn-int8-nodata.onnx");
        CliRun noData = CliRun.of("export", int8.toString(), "--format", "onnx", "--out", elsewhere.toString());
        assertEquals(0, noData.code(), noData.err());
        assertTrue(noData.out().contains("not compared with distill-runtime float32"), noData.out());
        assertEquals(1f / 16, Float.parseFloat(ModelProto.parseFrom(Files.readAllBytes(elsewhere))
                .getMetadataPropsList().stream().filter(e -> e.getKey().equals(OnnxExporter.META_SCALE)).findFirst()
                .orElseThrow().getValue()), "the file's own preprocessing, without --data");
    }

    @Test
    void aDamagedPackedFileIsOneLineExitTwoAndNothingWritten() throws Exception {
        Path bad = temp.resolve("damaged.packed");
        Files.write(bad, "DSTLPACK and then nothing that parses".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        CliRun r = CliRun.of("export", bad.toString(), "--format", "onnx");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: " + bad + ": "), r.err());
        assertFalse(Files.exists(temp.resolve("damaged.onnx")));
    }

    @Test
    void anUnknownFormatIsRefused() {
        CliRun r = CliRun.of("export", graphZip.toString(), "--format", "tflite");
        assertEquals(2, r.code(), r.err());
        assertEquals("error: --format: unknown format 'tflite' (expected one of: packed, onnx)", r.err().strip());
    }

    @Test
    void anUnknownExportFormatInTheConfigIsOneLocatedLine() {
        CliRun r = CliRun.of("validate", CliRun.repoFile("configs/digits-compress.yaml").toString(), "--set",
                "stages=[{type: export, format: tflite}]");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("unknown format 'tflite'; known: onnx"), r.err());
    }

    @Test
    void theExportStageWritesEveryFinalModelAsOnnxAndItPredictsWhatDl4jPredicted() throws Exception {
        Path run = temp.resolve("run");
        CliRun r = CliRun.digitsCompression(run, "[{type: prune, sparsity: 0.5, fine_tune_epochs: 1},"
                + " {type: quantize, scheme: int8}, {type: export, format: onnx}]", 1, 2);
        assertEquals(0, r.code(), r.err());
        LabeledData test = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0).second();
        for (String id : new String[] {"student-from-teacher", "student-from-teacher-pruned"}) {
            Path onnx = run.resolve("models/" + id + ".onnx");
            assertTrue(r.out().contains(id + ": exported to models/" + id + ".onnx"), r.out());
            int[] ort = OrtRun.run(Files.readAllBytes(onnx), test.features(), OnnxExporter.PROBABILITIES, 1)
                    .argMax(1).toIntVector();
            JsonNode saved = new ObjectMapper().readTree(run.resolve("predictions/" + id + ".json").toFile());
            int[] dl4j = new ObjectMapper().convertValue(saved.get("predicted"), int[].class);
            assertEquals(java.util.Arrays.toString(dl4j), java.util.Arrays.toString(ort), id);
        }
        assertFalse(Files.exists(run.resolve("models/teacher.onnx")), "teachers are not final models");
        // the quantize stage's packed file is exported from distill-runtime's ops, its int8 weights as QDQ
        assertTrue(r.out().contains("student-from-teacher-pruned-int8: exported to models/student-from-teacher-"
                + "pruned-int8.onnx") && r.out().contains("ONNX Runtime vs distill-runtime float32"), r.out());
        ModelProto int8 = ModelProto.parseFrom(Files.readAllBytes(
                run.resolve("models/student-from-teacher-pruned-int8.onnx")));
        assertTrue(int8.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("DequantizeLinear")),
                "int8 weights behind DequantizeLinear");
        assertTrue(Files.size(run.resolve("models/student-from-teacher-pruned-int8.onnx"))
                < 0.4 * Files.size(run.resolve("models/student-from-teacher-pruned.onnx")));
    }
}
