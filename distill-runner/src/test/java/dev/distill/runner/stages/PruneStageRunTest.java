package dev.distill.runner.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped digits compression config through the command line (epochs cut short), with a second,
 * structured stage appended: both stages' models are saved sparse, reported, and agree with
 * summary.json; the report and evaluate commands read the sparse files.
 */
class PruneStageRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static String console;
    static final Map<String, JsonNode> MODELS = new HashMap<>();

    @BeforeAll
    static void run() throws Exception {
        runDir = temp.resolve("run");
        CliRun result = CliRun.digitsCompression(runDir, "[{type: prune, scope: global, sparsity: 0.8, "
                + "fine_tune_epochs: 1}, {type: prune, method: structured, sparsity: 0.5, fine_tune_epochs: 1, norm: l2}]");
        assertEquals(0, result.code(), result.err());
        console = result.out();
        MODELS.putAll(CliRun.summaryModels(runDir));
    }

    @Test
    void magnitudeStageEntryHasTheStageFieldsAndItsSparseFile() throws Exception {
        JsonNode m = MODELS.get("student-from-teacher-pruned");
        assertEquals("stage", m.get("role").asText());
        assertEquals("prune", m.get("stage").asText());
        assertEquals("student-from-teacher", m.get("input").asText());
        assertEquals("teacher", m.get("distilled_from").asText(), "fine-tuned with the student's own teacher");
        assertEquals(0.8, m.get("sparsity").asDouble(), 0.001);
        assertEquals(0.8, m.get("layer_sparsity").get("dense_0").asDouble(), 0.001);
        Path file = runDir.resolve(m.get("file").asText());
        assertTrue(file.toString().endsWith(".sparse"));
        assertEquals(Files.size(file), m.get("file_bytes").asLong());
        MultiLayerNetwork net = SparseModelFile.read(file);
        long nonzero = net.params().neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber().longValue();
        assertEquals(nonzero, m.get("params").asLong(), "params are the non-zero ones");
        assertEquals(2048 - 1638, net.getParam("0_W").neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT)
                .sumNumber().longValue(), "80% of the 64x32 weights pruned, exactly");
        long input = MODELS.get("student-from-teacher").get("file_bytes").asLong();
        assertTrue(m.get("file_bytes").asLong() < input, m.get("file_bytes") + " vs " + input);
        JsonNode w = m.get("tensors").get(0);
        assertEquals("dense_0", w.get("layer").asText());
        // 64 rows of 32: by column, 33 pointers instead of 65, and row indices < 64 fit one byte too
        assertEquals("csc", w.get("encoding").asText());
        assertEquals(1, w.get("index_bytes").asInt());
        assertEquals(8192, w.get("dense_bytes").asLong());
        assertTrue(Files.isRegularFile(runDir.resolve("predictions/student-from-teacher-pruned.json")));
        double before = m.get("stage_details").get("validation_accuracy_before").asDouble();
        assertTrue(before > 0.5, "validation accuracy of the input " + before);
    }

    @Test
    void structuredStageTakesTheFirstStagesOutputAndIsPhysicallySmaller() throws Exception {
        JsonNode m = MODELS.get("student-from-teacher-pruned-pruned");
        assertEquals("student-from-teacher-pruned", m.get("input").asText());
        assertEquals("16", m.get("layers").get(0).get("output_shape").asText(), "32 units halved");
        assertEquals(0.5, m.get("layer_sparsity").get("dense_0").asDouble(), 1e-9);
        MultiLayerNetwork net = SparseModelFile.read(runDir.resolve(m.get("file").asText()));
        assertEquals(64 * 16 + 16 + 16 * 10 + 10, net.numParams());
        assertTrue(m.get("stage_details").get("inference_samples_per_s").asDouble() > 0);
    }

    @Test
    void consoleTableAndReportShowTheStageRows() throws Exception {
        assertTrue(java.util.regex.Pattern.compile("student-from-teacher-pruned +prune 80\\.0% +student-from-teacher ")
                .matcher(console).find(), console);
        String md = Files.readString(runDir.resolve("report.md"));
        assertTrue(md.contains("| student-from-teacher-pruned"), md);
        assertTrue(md.contains("## Stages"), md);
        assertTrue(md.contains("| dense_0  | 0_W    | 0.800"), md);
        assertTrue(Files.isRegularFile(runDir.resolve("report.html")));
    }

    @Test
    void reportAndEvaluateReadTheSparseFiles() {
        CliRun report = CliRun.of("report", runDir.toString());
        assertEquals(0, report.code(), report.err());
        CliRun evaluate = CliRun.of("evaluate", runDir.resolve("models/student-from-teacher-pruned.sparse").toString(),
                "--data", runDir.resolve("config.yaml").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        double accuracy = MODELS.get("student-from-teacher-pruned").get("test_accuracy").asDouble();
        assertTrue(evaluate.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f", accuracy)),
                evaluate.out());
    }

    @Test
    void sensitivityScanOfTheStudentByNameGivesATableAndACsv() throws Exception {
        CliRun r = CliRun.of("sensitivity", runDir.toString(), "--model", "student");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("student-from-teacher: validation accuracy"), r.out());
        assertTrue(r.out().contains("dense_0"), r.out());
        assertTrue(r.out().contains("output_1"), r.out());
        java.util.List<String> csv = Files.readAllLines(runDir.resolve("sensitivity-student-from-teacher.csv"));
        assertEquals("layer,weights,sparsity,accuracy", csv.get(0));
        assertEquals(1 + 2 * 10, csv.size(), "two layers at 0.0 .. 0.9");
        assertTrue(csv.get(1).startsWith("dense_0,2048,0.0,"), csv.get(1));
        CliRun unknown = CliRun.of("sensitivity", runDir.toString(), "--model", "nobody");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("no model 'nobody'; its models: teacher, student-from-teacher"), unknown.err());
    }
}
