package dev.distill.runner.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.runtime.QuantizedTensor;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digits compression config through the command line (epochs cut short) with prune → int8,
 * k-means and binary: packed files that agree with summary.json, quantization stages as end points,
 * the integer path measured, and evaluate reading the packed files.
 */
class QuantizeStageRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static String console;
    static final Map<String, JsonNode> MODELS = new HashMap<>();

    @BeforeAll
    static void run() throws Exception {
        runDir = temp.resolve("run");
        CliRun result = CliRun.digitsCompression(runDir, "[{type: prune, scope: global, sparsity: 0.5, fine_tune_epochs: 1},"
                + " {type: quantize, scheme: int8}, {type: quantize, scheme: kmeans, bits: 3,"
                + " fine_tune_epochs: 1, huffman: true}, {type: quantize, scheme: binary, fine_tune_epochs: 1}]", 1, 3);
        assertEquals(0, result.code(), result.err());
        console = result.out();
        MODELS.putAll(CliRun.summaryModels(runDir));
    }

    @Test
    void everyQuantizedModelIsAPackedFileOfThePrunedModelWithItsEntry() throws Exception {
        for (String[] c : new String[][] {{"int8", "8"}, {"kmeans3-huffman", "3"}, {"binary", "1"}}) {
            JsonNode m = MODELS.get("student-from-teacher-pruned-" + c[0]);
            assertEquals("stage", m.get("role").asText(), c[0]);
            assertEquals("quantize", m.get("stage").asText());
            assertEquals("student-from-teacher-pruned", m.get("input").asText(), "quantization starts from the pruned model");
            assertEquals(Integer.parseInt(c[1]), m.get("bits").asInt());
            Path file = runDir.resolve(m.get("file").asText());
            assertTrue(file.toString().endsWith(".packed"));
            assertEquals(Files.size(file), m.get("file_bytes").asLong());
            dev.distill.runtime.Model p = PackedModelFile.read(file);
            QuantizedTensor w = p.description().ops().get(0).weights();
            assertEquals(java.util.List.of(), p.classNames(), "digits has no class names");
            assertEquals(1f / 16, p.preprocessing().scale(), "the digits files' pixels are 0..16");
            assertEquals("0_W", w.key());
            assertEquals(1024, w.stored(), c[0] + ": the pruned half of the 64x32 weights is not stored");
            assertTrue(m.get("file_bytes").asLong() < MODELS.get("student-from-teacher-pruned").get("file_bytes").asLong());
            assertTrue(Files.isRegularFile(runDir.resolve("predictions/" + m.get("id").asText() + ".json")));
            assertTrue(m.get("test_accuracy").asDouble() > 0.3, c[0] + " " + m.get("test_accuracy"));
        }
        assertEquals("int8", MODELS.get("student-from-teacher-pruned-int8").get("scheme").asText());
        // the report's per-layer bit width is read from the packed file
        dev.distill.runner.report.SavedModel saved = dev.distill.runner.report.SavedModel.read(
                runDir.resolve("models/student-from-teacher-pruned-kmeans3-huffman.packed"));
        assertEquals(3, saved.layers().get(0).bits());
        assertEquals(3, saved.layers().get(1).bits());
        assertEquals("binary", MODELS.get("student-from-teacher-pruned-binary").get("scheme").asText());
    }

    @Test
    void theIntegerPathIsMeasuredForInt8Only() {
        JsonNode int8 = MODELS.get("student-from-teacher-pruned-int8");
        assertTrue(int8.get("infer_samples_per_s").asDouble() > 0);
        assertTrue(int8.get("fp32_infer_samples_per_s").asDouble() > 0);
        JsonNode d = int8.get("stage_details");
        assertTrue(d.get("integer_agreement_with_dequantized").asDouble() > 0.9, d.toString());
        assertTrue(d.get("integer_test_accuracy").asDouble() > 0.3, d.toString());
        assertTrue(MODELS.get("student-from-teacher-pruned-kmeans3-huffman").get("infer_samples_per_s").isNull());
        assertNull(MODELS.get("student-from-teacher-pruned-kmeans3-huffman").get("stage_details")
                .get("integer_test_accuracy"));
    }

    @Test
    void consoleTableReportAndEvaluateShowTheQuantizedModels() throws Exception {
        assertTrue(java.util.regex.Pattern.compile("student-from-teacher-pruned-int8 +quantize int8")
                .matcher(console).find(), console);
        assertTrue(console.contains("student-from-teacher-pruned-int8 integer path: test accuracy"), console);
        String md = Files.readString(runDir.resolve("report.md"));
        assertTrue(md.contains("### student-from-teacher-pruned-kmeans3-huffman (quantize of student-from-teacher-pruned)"),
                md);
        assertTrue(md.contains("kmeans 3-bit"), md);
        CliRun evaluate = CliRun.of("evaluate", runDir.resolve("models/student-from-teacher-pruned-int8.packed")
                .toString(), "--data", runDir.resolve("config.yaml").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        double accuracy = MODELS.get("student-from-teacher-pruned-int8").get("test_accuracy").asDouble();
        assertTrue(evaluate.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f", accuracy)),
                evaluate.out());
        CliRun report = CliRun.of("report", runDir.toString());
        assertEquals(0, report.code(), report.err());
    }

    @Test
    void aDamagedPackedFileGivesOneLineNamingIt() throws Exception {
        Path bad = temp.resolve("bad.packed");
        byte[] bytes = Files.readAllBytes(runDir.resolve("models/student-from-teacher-pruned-int8.packed"));
        Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        CliRun evaluate = CliRun.of("evaluate", bad.toString(), "--data", runDir.resolve("config.yaml").toString());
        assertEquals(2, evaluate.code(), evaluate.out());
        assertTrue(evaluate.err().contains(bad + ": truncated packed model file"), evaluate.err());
        assertEquals(1, evaluate.err().strip().lines().count(), evaluate.err());
    }

    @Test
    void theReportNamesEachLayersStorageAndEachStagesWork() throws Exception {
        org.jsoup.nodes.Document page = org.jsoup.Jsoup.parse(Files.readString(runDir.resolve("report.html")));
        Map<String, String> widths = Map.of("student-from-teacher-pruned", "32-bit float",
                "student-from-teacher-pruned-int8", "8-bit int",
                "student-from-teacher-pruned-kmeans3-huffman", "3-bit k-means",
                "student-from-teacher-pruned-binary", "1-bit binary");
        for (Map.Entry<String, String> e : widths.entrySet()) {
            org.jsoup.nodes.Element heading = page.select("h3").stream().filter(h -> h.text().equals(e.getKey()))
                    .findFirst().orElseThrow(() -> new AssertionError("no layer table for " + e.getKey()));
            org.jsoup.nodes.Element table = heading.nextElementSibling();
            java.util.List<String> cells = table.select("tr").stream().skip(1)
                    .map(r -> r.select("td").last().text()).filter(t -> !t.isEmpty()).toList();
            assertTrue(!cells.isEmpty() && cells.stream().allMatch(e.getValue()::equals), e.getKey() + ": " + cells);
        }
        java.util.List<String> steps = page.select("#timing-table tr td:first-child").eachText();
        assertTrue(steps.contains("prune and fine-tune (1 epoch) student-from-teacher-pruned"), steps.toString());
        assertTrue(steps.contains("quantize, no fine-tuning, student-from-teacher-pruned-int8"), steps.toString());
        assertTrue(steps.contains("quantize and fine-tune (1 epoch) student-from-teacher-pruned-binary"), steps.toString());
        assertTrue(steps.stream().noneMatch(t -> t.startsWith("load and evaluate student")), steps.toString());
    }

    @Test
    void evaluateCountsThePrunedModelsNonZeroParameters() {
        JsonNode pruned = MODELS.get("student-from-teacher-pruned");
        CliRun evaluate = CliRun.of("evaluate", runDir.resolve(pruned.get("file").asText()).toString(), "--data",
                runDir.resolve("config.yaml").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        // the architecture's parameters (the summary's params of a stage counts the stored non-zeros)
        long params = 0;
        for (JsonNode layer : pruned.get("layers")) {
            params += layer.get("params").asLong();
        }
        long nonzero = pruned.get("nonzero_params").asLong();
        assertTrue(nonzero < params * 0.6, pruned.toString());
        assertTrue(evaluate.out().contains(String.format(java.util.Locale.ROOT, "(%,d params, %,d non-zero)", params,
                nonzero)), evaluate.out());
    }
}
