package dev.distill.runner.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.modelfile.ModelReader;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.testing.CliRun;
import dev.distill.runtime.Model;
import dev.distill.runtime.Op;
import dev.distill.runtime.Precision;
import dev.distill.runtime.QuantizedTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped headline config (configs/fashion-mnist-mobile-compress.yaml) with its own stages on the
 * shipped digits, training cut short: the depthwise-separable student is distilled, quantized to int8 after
 * training and exported; the packed file loads in distill-runtime with int8 weights in every conv, its float
 * path gives the DL4J network's class on every test example, its integer path nearly all of them, and its
 * size is reported beside the teacher's zip.
 */
class MobileCompressionRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static String console;
    static Map<String, JsonNode> models;
    static ExperimentData data;

    static final String STUDENT = "student-from-teacher";
    static final String PACKED = STUDENT + "-int8";

    @BeforeAll
    static void run() throws Exception {
        runDir = temp.resolve("run");
        CliRun result = CliRun.of("run", CliRun.repoFile("configs/fashion-mnist-mobile-compress.yaml").toString(),
                "--out", runDir.toString(),
                "--set", "data={dataset: digits, input: {height: 8, width: 8, channels: 1}, classes: 10, batch_size: 32}",
                "--set", "models.teacher.training.epochs=2", "--set", "models.student.training.epochs=3");
        assertEquals(0, result.code(), result.err());
        console = result.out();
        models = CliRun.summaryModels(runDir);
        ExperimentConfig config = ConfigLoader.load(runDir.resolve("config.yaml"));
        data = ExperimentData.load(config.data(), config.seed());
    }

    @Test
    void thePackedFileLoadsInTheRuntimeWithInt8WeightsInEveryConv() throws Exception {
        Model model = Model.load(runDir.resolve("models/" + PACKED + ".packed"));
        int depthwise = 0;
        int convs = 0;
        for (Op op : model.description().ops()) {
            if (op.kind() == Op.Kind.DEPTHWISE_CONV2D || op.kind() == Op.Kind.CONV2D) {
                depthwise += op.kind() == Op.Kind.DEPTHWISE_CONV2D ? 1 : 0;
                convs++;
                QuantizedTensor w = op.weights();
                assertEquals(QuantizedTensor.Kind.LINEAR, w.kind(), w.key());
                assertEquals(8, w.bits(), w.key());
                assertEquals(w.size(), w.stored(), w.key() + ": nothing pruned");
            }
        }
        assertEquals(3, depthwise, "the student's three depthwise convs");
        assertEquals(7, convs, "and its four full convs");
        assertTrue(model.supports(Precision.INT8), "the integer path is there");
    }

    @Test
    void theRuntimeGivesTheDl4jNetworksClassOnEveryTestExample() throws Exception {
        JsonNode details = models.get(PACKED).get("stage_details");
        assertEquals(1.0, details.get("runtime_agreement_with_dl4j").asDouble(), details.toString());
        assertTrue(details.get("runtime_max_probability_difference").asDouble() <= 1e-5, details.toString());

        // read back here, independently of the stage: the float path's classes (int8 weights decoded) are the
        // stage's predictions and its accuracy the summary's
        Model model = Model.load(runDir.resolve("models/" + PACKED + ".packed")).withPrecision(Precision.FLOAT32);
        float[][] test = data.test().features().toFloatMatrix();
        int[] runtime = new int[test.length];
        for (int i = 0; i < test.length; i++) {
            runtime[i] = model.classifyPreprocessed(test[i]);
        }
        JsonNode saved = new ObjectMapper().readTree(runDir.resolve("predictions/" + PACKED + ".json").toFile());
        int[] stage = new ObjectMapper().convertValue(saved.get("predicted"), int[].class);
        assertArrayEquals(stage, runtime);
        assertEquals(models.get(PACKED).get("test_accuracy").asDouble(), Accuracy.of(runtime, data.test().labels()),
                1e-12);

        // the integer path against the DL4J student it was quantized from (cut-short training: a looser bar
        // than RuntimeAgreementTest's 99.5% on trained students)
        MultiLayerNetwork student = ModelReader.sequential(runDir.resolve("models/" + STUDENT + ".zip"));
        int[] dl4j = Accuracy.predict(student, data.test().features());
        Model integer = model.withPrecision(Precision.INT8);
        int same = 0;
        for (int i = 0; i < dl4j.length; i++) {
            same += dl4j[i] == integer.classifyPreprocessed(test[i]) ? 1 : 0;
        }
        assertTrue(same >= 0.9 * dl4j.length, same + " of " + dl4j.length);
        assertEquals(details.get("integer_agreement_with_input").asDouble(), (double) same / dl4j.length, 1e-12);
    }

    @Test
    void theStagesRanInOrderAndTheExportWasChecked() {
        assertEquals("quantize", models.get(PACKED).get("stage").asText());
        assertEquals(STUDENT, models.get(PACKED).get("input").asText());
        assertTrue(Files.isRegularFile(runDir.resolve("models/" + PACKED + ".onnx")), console);
        for (String id : List.of(STUDENT, PACKED)) {
            assertTrue(models.get(id).get("test_accuracy").asDouble() > 0.2, id + " " + models.get(id));
        }
    }

    @Test
    void theSummaryPutsThePackedFileBesideTheTeachersZip() {
        long teacher = models.get("teacher").get("file_bytes").asLong();
        long packed = models.get(PACKED).get("file_bytes").asLong();
        assertTrue(packed * 10 < teacher, packed + " vs " + teacher);
        String share = String.format(java.util.Locale.ROOT, "(1/%.0f)", (double) teacher / packed);
        assertTrue(console.lines().anyMatch(l -> l.startsWith(PACKED + " ") && l.contains(share)), console);
    }
}
