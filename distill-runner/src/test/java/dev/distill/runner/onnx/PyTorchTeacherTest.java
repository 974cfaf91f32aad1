package dev.distill.runner.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.models.spec.InputShape;
import dev.distill.onnx.OnnxTeacher;
import dev.distill.onnx.OnnxTeacherSpec;
import dev.distill.runner.data.Datasets;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The committed fixture that PyTorch wrote (tools/pytorch_digits_teacher.py, Debian's python3-torch):
 * a CNN taking raw digits pixels normalized as (raw - 4.88) / 6.02, NCHW. Declared as distill's
 * config would declare it, it gives the logits PyTorch saved, and it teaches a student through
 * {@code distill run}.
 */
class PyTorchTeacherTest {

    private static final Path MODEL = CliRun.repoFile("distill-runner/src/test/resources/onnx/pytorch-digits-cnn.onnx");
    private static final Path LOGITS = CliRun.repoFile(
            "distill-runner/src/test/resources/onnx/pytorch-digits-cnn-logits.csv");
    private static final String DECLARATION = "{onnx: '" + MODEL + "', layout: nchw, output: logits, scale: 16,"
            + " mean: [4.88], std: [6.02]}";

    @TempDir
    Path temp;

    @Test
    void itsLogitsInOnnxRuntimeAreTheOnesPyTorchSaved() throws Exception {
        // the first 100 rows of the data file, in file order, as distill reads them (pixels / 16)
        LabeledData digits = Datasets.digits(CliRun.repoFile("datasets/digits.csv.gz"));
        INDArray first = digits.features().get(NDArrayIndex.interval(0, 100), NDArrayIndex.all());
        OnnxTeacherSpec spec = new OnnxTeacherSpec(MODEL, OnnxTeacherSpec.Layout.NCHW, OnnxTeacherSpec.Output.LOGITS,
                null, 16, List.of(4.88), List.of(6.02));
        INDArray ours;
        try (OnnxTeacher teacher = OnnxTeacher.open(spec, InputShape.image(8, 8, 1), 10, first, 1)) {
            ours = teacher.logits(first);
            assertEquals(8 * 9 + 8 + 128 * 32 + 32 + 32 * 10 + 10, teacher.weights().params());
        }
        INDArray saved = Nd4j.createFromArray(Files.readAllLines(LOGITS).stream().filter(l -> !l.startsWith("#"))
                .map(l -> java.util.Arrays.stream(l.split(",")).mapToDouble(Double::parseDouble).toArray())
                .toArray(double[][]::new)).castTo(ours.dataType());
        assertEquals(100, saved.rows());
        double diff = ours.sub(saved).amaxNumber().doubleValue();
        System.out.printf("PyTorch fixture: max |logit difference| ONNX Runtime vs PyTorch %.2g%n", diff);
        assertTrue(diff <= 1e-4, "max |logit difference| " + diff);
        assertEquals(java.util.Arrays.toString(saved.argMax(1).toIntVector()),
                java.util.Arrays.toString(ours.argMax(1).toIntVector()));
    }

    @Test
    void itTeachesAStudentThroughDistillRun() throws Exception {
        Path config = temp.resolve("pytorch.yaml");
        Files.writeString(config, """
                name: pytorch-teacher
                data: {dataset: digits, input: {height: 8, width: 8, channels: 1}, classes: 10, batch_size: 32}
                models:
                  teacher: %s
                  student: {layers: [{type: dense, units: 16, activation: relu}, {type: output, classes: 10}], training: {epochs: 2}}
                chains: [[teacher, student]]
                baseline: false
                seeds: [0]
                """.formatted(DECLARATION));
        CliRun r = CliRun.of("run", config.toString(), "--out", temp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        Map<String, com.fasterxml.jackson.databind.JsonNode> models = CliRun.summaryModels(temp.resolve("run"));
        // trained on rows 100.. of the file, so most of the test split was in its training set: a wrong
        // scale or normalization would show as far lower accuracy than this
        assertTrue(models.get("teacher").get("test_accuracy").asDouble() > 0.9, models.get("teacher").toString());
        assertTrue(models.containsKey("student-from-teacher"));
    }

    @Test
    void declaredWithTheWrongLayoutItSaysWhichShapeItHas() throws Exception {
        Path config = temp.resolve("nhwc.yaml");
        Files.writeString(config, """
                name: pytorch-teacher
                data: {dataset: digits, input: {height: 8, width: 8, channels: 1}, classes: 10}
                models:
                  teacher: {onnx: '%s', layout: nhwc}
                  student: {layers: [{type: output, classes: 10}]}
                chains: [[teacher, student]]
                """.formatted(MODEL));
        CliRun r = CliRun.of("validate", config.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("error: " + MODEL + ": input 'pixels' has shape [N,1,8,8], but layout nhwc gives this data "
                + "(8x8x1) as [N,8,8,1]", r.err().strip());
    }
}
