package dev.distill.runner.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digits compression config through the command line (epochs cut short) with a low-rank stage
 * before pruning: the factorized student is a smaller network whose file, summary entry, console
 * row and report agree with each other and with the counts done by hand, and the prune stage after
 * it starts from it.
 */
class LowRankStageRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static String console;
    static final Map<String, JsonNode> MODELS = new HashMap<>();

    @BeforeAll
    static void run() throws Exception {
        runDir = temp.resolve("run");
        CliRun result = CliRun.digitsCompression(runDir, "[{type: low_rank, param_ratio: 0.5, fine_tune_epochs: 1},"
                + " {type: prune, sparsity: 0.5, fine_tune_epochs: 1}]");
        assertEquals(0, result.code(), result.err());
        console = result.out();
        MODELS.putAll(CliRun.summaryModels(runDir));
    }

    @Test
    void theEntryCountsTheFactorizedNetworkAndItsFile() throws Exception {
        JsonNode m = MODELS.get("student-from-teacher-lowrank");
        assertEquals("stage", m.get("role").asText());
        assertEquals("low_rank", m.get("stage").asText());
        assertEquals("student-from-teacher", m.get("input").asText());
        assertEquals("teacher", m.get("distilled_from").asText(), "fine-tuned with the student's own teacher");
        // dense_0 is 64 x 32 + 32 = 2,080; half allows rank floor((1,040 - 32) / 96) = 10: 640 + 320 + 32 = 992;
        // the output layer 32 x 10 + 10 = 330 is not factorized by default
        assertEquals(992 + 330, m.get("params").asLong());
        assertEquals(640 + 320 + 320, m.get("flops_per_sample").asLong());
        assertEquals("10", m.get("layers").get(0).get("output_shape").asText());
        assertEquals(640, m.get("layers").get(0).get("params").asLong(), "no bias in the first factor");
        Path file = runDir.resolve(m.get("file").asText());
        assertTrue(file.toString().endsWith("student-from-teacher-lowrank.zip"));
        assertEquals(Files.size(file), m.get("file_bytes").asLong());
        MultiLayerNetwork net = dev.distill.core.modelfile.ModelReader.sequential(file);
        assertEquals(992 + 330, net.numParams());
        long input = MODELS.get("student-from-teacher").get("file_bytes").asLong();
        assertTrue(m.get("file_bytes").asLong() < input, m.get("file_bytes") + " vs " + input);
        assertTrue(Files.isRegularFile(runDir.resolve("predictions/student-from-teacher-lowrank.json")));
    }

    @Test
    void theDetailsGiveEachLayersRankAndReconstructionError() {
        JsonNode d = MODELS.get("student-from-teacher-lowrank").get("stage_details");
        assertEquals(0.5, d.get("param_ratio").asDouble());
        assertEquals("distill", d.get("loss").asText());
        assertEquals(2080 + 330, d.get("input_params").asLong());
        assertEquals(1, d.get("layers").size(), "dense_0 only");
        JsonNode l = d.get("layers").get(0);
        assertEquals("dense_0", l.get("layer").asText());
        assertEquals("64x32", l.get("matrix").asText());
        assertEquals(10, l.get("rank").asInt());
        assertEquals(32, l.get("full_rank").asInt());
        assertEquals(992, l.get("params_after").asLong());
        double error = l.get("reconstruction_error").asDouble();
        assertTrue(error > 0 && error < 1, "relative Frobenius error " + error);
        assertEquals(Math.sqrt(1 - l.get("energy_kept").asDouble()), error, 1e-9);
        assertTrue(l.get("validation_accuracy_fine_tuned").asDouble() > 0.5, l.toString());
    }

    @Test
    void consoleTableAndReportShowTheStage() throws Exception {
        assertTrue(java.util.regex.Pattern.compile("student-from-teacher-lowrank +low_rank +student-from-teacher ")
                .matcher(console).find(), console);
        assertTrue(console.contains("dense_0 64x32: rank 10 of 32, reconstruction error "), console);
        String md = Files.readString(runDir.resolve("report.md"));
        assertTrue(md.contains("### student-from-teacher-lowrank (low_rank of student-from-teacher)"), md);
        assertTrue(md.contains("| dense_0 | 64x32  | 10 of 32 |"), md);
        assertTrue(Files.isRegularFile(runDir.resolve("report.html")));
    }

    @Test
    void evaluateReadsTheFactorizedModel() {
        CliRun evaluate = CliRun.of("evaluate", runDir.resolve("models/student-from-teacher-lowrank.zip").toString(),
                "--data", runDir.resolve("config.yaml").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        double accuracy = MODELS.get("student-from-teacher-lowrank").get("test_accuracy").asDouble();
        assertTrue(evaluate.out().contains(String.format(Locale.ROOT, "test accuracy %.4f", accuracy)), evaluate.out());
    }

    @Test
    void aPruneStageAfterItPrunesTheFactorizedModel() throws Exception {
        JsonNode m = MODELS.get("student-from-teacher-lowrank-pruned");
        assertEquals("student-from-teacher-lowrank", m.get("input").asText());
        MultiLayerNetwork net = SparseModelFile.read(runDir.resolve(m.get("file").asText()));
        assertEquals(992 + 330, net.numParams(), "the factorized architecture");
        // half of each layer's weights: 640 of the first factor, 320 of the second (layer scope)
        assertEquals(320, net.getParam("0_W").neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber()
                .longValue());
        assertEquals(0.5, m.get("layer_sparsity").get("dense_1").asDouble(), 1e-9);
    }
}
