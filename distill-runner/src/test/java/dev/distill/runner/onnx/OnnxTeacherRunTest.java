package dev.distill.runner.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.train.TeacherLogits;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.InputShape;
import dev.distill.models.zoo.Zoo;
import dev.distill.onnx.OnnxExporter;
import dev.distill.runner.data.Datasets;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A distill-trained CNN teacher saved twice, as a DL4J zip and exported to ONNX, and the same student
 * distilled from each through {@code distill run}: the ONNX teacher (run by ONNX Runtime) gives the
 * zip's logits, the student distilled from it the same logits as the one distilled from the zip, and
 * the teacher is measured like any model. A second student, trained on augmented views, gets the ONNX
 * teacher's logits batch by batch.
 */
class OnnxTeacherRunTest {

    @TempDir
    static Path temp;

    static Path zipRun;
    static Path onnxRun;
    static String onnxConsole;
    static long teacherParams;

    private static final String STUDENT = "{layers: [{type: dense, units: 16, activation: relu}, {type: output, "
            + "classes: 10}], training: {epochs: 2}}";

    @BeforeAll
    static void distilFromBoth() throws Exception {
        LabeledData train = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0).first();
        Network teacher = Networks.build(Zoo.spec("cnn", 0.25, 1, 10), InputShape.image(8, 8, 1), new Adam(0.01), 0, 1,
                new LossMCXENT());
        for (int i = 0; i < 20; i++) {
            teacher.fit(new DataSet(train.features(), train.oneHot()));
        }
        teacherParams = teacher.numParams();
        ModelFiles.saveForShipping(teacher, temp.resolve("teacher.zip"));
        OnnxExporter.write(teacher, Map.of(), temp.resolve("teacher.onnx"));

        zipRun = temp.resolve("zip-run");
        CliRun zip = CliRun.of("run", config("zip.yaml", "{file: teacher.zip}", "").toString(), "--out",
                zipRun.toString());
        assertEquals(0, zip.code(), zip.err());
        onnxRun = temp.resolve("onnx-run");
        CliRun onnx = CliRun.of("run", config("onnx.yaml", "{onnx: teacher.onnx, output: logits, "
                + "output_name: logits}", "  student_aug: {layers: [{type: dense, units: 16, activation: relu}, "
                + "{type: output, classes: 10}], training: {epochs: 1, augment: {shift: 1}}}\n").toString(), "--set",
                "chains=[[teacher, student], [teacher, student_aug]]", "--out", onnxRun.toString());
        assertEquals(0, onnx.code(), onnx.err());
        onnxConsole = onnx.out();
    }

    private static Path config(String name, String teacher, String extraModels) throws Exception {
        Path file = temp.resolve(name);
        Files.writeString(file, """
                name: onnx-teacher
                seed: 42
                data: {dataset: digits, input: {height: 8, width: 8, channels: 1}, classes: 10, batch_size: 32}
                models:
                  teacher: %s
                  student: %s
                %sdistillation: {temperature: 4, soft_weight: 0.9, hard_weight: 0.1}
                chains: [[teacher, student]]
                baseline: false
                seeds: [0]
                """.formatted(teacher, STUDENT, extraModels));
        return file;
    }

    @Test
    void theOnnxTeachersCachedLogitsAreTheZipTeachers() throws Exception {
        INDArray fromZip = Nd4j.readBinary(zipRun.resolve("logits/teacher.bin").toFile());
        INDArray fromOnnx = Nd4j.readBinary(onnxRun.resolve("logits/teacher.bin").toFile());
        assertEquals(java.util.Arrays.toString(fromZip.shape()), java.util.Arrays.toString(fromOnnx.shape()));
        double diff = fromZip.sub(fromOnnx).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "max |logit difference| " + diff);
    }

    @Test
    void aStudentDistilledFromTheOnnxTeacherHasTheLogitsOfOneDistilledFromTheZip() throws Exception {
        LabeledData test = Splits.holdOut(Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz")), 0.2, 0).second();
        INDArray a = TeacherLogits.compute(dev.distill.core.modelfile.ModelReader.sequential(zipRun.resolve("models/student-from-teacher.zip")),
                test.features());
        INDArray b = TeacherLogits.compute(dev.distill.core.modelfile.ModelReader.sequential(onnxRun.resolve("models/student-from-teacher.zip")),
                test.features());
        double diff = a.sub(b).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "max |student logit difference| " + diff);
    }

    @Test
    void theOnnxTeacherIsMeasuredLikeAnyModel() throws Exception {
        Map<String, JsonNode> zip = CliRun.summaryModels(zipRun);
        Map<String, JsonNode> onnx = CliRun.summaryModels(onnxRun);
        JsonNode t = onnx.get("teacher");
        assertEquals("teacher", t.get("role").asText());
        assertEquals("models/teacher.onnx", t.get("file").asText());
        assertEquals(Files.size(temp.resolve("teacher.onnx")), t.get("file_bytes").asLong());
        assertEquals(teacherParams, t.get("params").asLong(), "counted from the initializers");
        assertEquals(zip.get("teacher").get("test_accuracy").asDouble(), t.get("test_accuracy").asDouble(), 1e-12);
        assertTrue(Files.isRegularFile(onnxRun.resolve("report.html")), "the report reads the .onnx file too");
        assertTrue(onnxConsole.contains("teacher (teacher, ONNX "), onnxConsole);
    }

    @Test
    void anAugmentedStudentGetsTheOnnxTeachersLogitsPerBatch() {
        assertTrue(onnxConsole.contains("teacher's logits per batch by its ONNX Runtime"), onnxConsole);
        assertTrue(onnxConsole.contains("student_aug-from-teacher: test accuracy"), onnxConsole);
    }
}
