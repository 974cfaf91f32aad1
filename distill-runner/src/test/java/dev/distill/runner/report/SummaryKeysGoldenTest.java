package dev.distill.runner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * summary.json's keys are a format other tools read (report, status, backfill, users' scripts): a real
 * short digits run (both chain roles, a baseline over two seeds with its verdict, prune, low-rank and
 * quantize stages) writes one, and every key path in it, in the order first written, must be the
 * stored list. A change to the summary's records that changes a key fails here; a deliberate change
 * rewrites the golden file with {@code -Dgolden.write=true} and commits the diff.
 */
class SummaryKeysGoldenTest {

    static final Path GOLDEN = CliRun.repoFile("distill-runner/src/test/resources").resolve("golden/summary-keys.txt");

    @TempDir
    static Path temp;

    static JsonNode summary;
    static Path summaryFile;

    @BeforeAll
    static void run() throws IOException {
        Path runDir = temp.resolve("run");
        CliRun result = CliRun.of("run", CliRun.repoFile("configs/digits-compress.yaml").toString(), "--out",
                runDir.toString(), "--set", "models.teacher.training.epochs=1", "--set",
                "models.student.training.epochs=2", "--set", "baseline=true", "--set", "seeds=[0, 1]", "--set",
                "stages=[{type: low_rank, param_ratio: 0.5, fine_tune_epochs: 1}, {type: prune, sparsity: 0.5,"
                        + " fine_tune_epochs: 1}, {type: quantize, scheme: int8}, {type: quantize, scheme: kmeans,"
                        + " bits: 4, fine_tune_epochs: 1}]");
        assertEquals(0, result.code(), result.err());
        summaryFile = runDir.resolve("summary.json");
        summary = new ObjectMapper().readTree(summaryFile.toFile());
    }

    @Test
    void summaryJsonKeysAreTheGoldenOnes() throws IOException {
        List<String> keys = new ArrayList<>(paths(summary));
        if (Boolean.getBoolean("golden.write")) {
            Files.write(GOLDEN, keys);
        }
        assertTrue(Files.isRegularFile(GOLDEN), GOLDEN + " is missing: write it with -Dgolden.write=true and commit it");
        assertEquals(String.join("\n", Files.readAllLines(GOLDEN)), String.join("\n", keys),
                "summary.json's keys changed; if on purpose, rewrite " + GOLDEN + " with -Dgolden.write=true");
    }

    @Test
    void aSummaryReadBackAndWrittenAgainIsTheSameDocument() throws IOException {
        // report, status and backfill read summary.json into the records: nothing may be lost on the way
        assertEquals(Files.readString(summaryFile), Json.pretty(Json.readSummary(summaryFile)));
    }

    @Test
    void theRunFilledTheEntriesTheGoldenKeysComeFrom() {
        // the golden list is only as good as the run: each kind of entry must be there, its keys filled
        Set<String> kinds = new LinkedHashSet<>();
        for (JsonNode m : summary.get("models")) {
            kinds.add(m.get("stage").isNull() ? m.get("role").asText() : m.get("stage").asText()
                    + (m.get("scheme").isNull() ? "" : "/" + m.get("scheme").asText()));
        }
        assertEquals(Set.of("teacher", "student", "baseline", "low_rank", "prune", "quantize/int8", "quantize/kmeans"),
                kinds);
        JsonNode student = summary.get("models").get(1);
        assertTrue(student.get("kd_verdict").isTextual(), student.toString());
        assertTrue(student.get("test_accuracy_per_seed").size() == 2, student.toString());
    }

    /**
     * Every key path of a JSON document, array positions written {@code []} and free-form maps (a
     * stage's details, per-layer sparsity, provenance, logits seconds) named but not entered: their
     * keys are data, not format.
     */
    static Set<String> paths(JsonNode root) {
        Set<String> out = new LinkedHashSet<>();
        walk(root, "", out);
        return out;
    }

    private static final Set<String> FREE_FORM = Set.of("stage_details", "layer_sparsity", "provenance",
            "logits_seconds");

    private static void walk(JsonNode node, String path, Set<String> out) {
        if (node.isArray()) {
            for (JsonNode element : node) {
                walk(element, path + "[]", out);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                out.add(child);
                if (!FREE_FORM.contains(field.getKey())) {
                    walk(field.getValue(), child, out);
                }
            }
        }
    }
}
