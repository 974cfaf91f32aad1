package dev.distill.runner.report;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.runner.cli.DistillCli;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html of a real (short) digits run: it shows every model of summary.json with the same
 * figures, parses, references nothing outside itself, its images decode, {@code report} redraws it
 * identically, and {@code compare --out} lists the models of two runs. The run is made once for the
 * class through the command line, as a user would.
 */
class ReportTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static Path otherRun;
    static JsonNode summary;
    static String html;
    static Document page;

    @BeforeAll
    static void runDigits() throws Exception {
        runDir = temp.resolve("digits");
        CliRun r = CliRun.of("run", config().toString(), "--out", runDir.toString(),
                "--set", "models.teacher.training.epochs=2", "--set", "models.assistant.training.epochs=2",
                "--set", "models.student.training.epochs=2", "--set", "seeds=[0,1]");
        assertEquals(0, r.code(), r.err());
        summary = new ObjectMapper().readTree(runDir.resolve("summary.json").toFile());
        html = Files.readString(runDir.resolve("report.html"));
        page = Jsoup.parse(html);
        // a second, smaller run (different models) for compare
        otherRun = temp.resolve("digits-assistant-only");
        CliRun r2 = CliRun.of("run", config().toString(), "--out", otherRun.toString(),
                "--set", "chains=[[assistant, student]]", "--set", "baseline=false",
                "--set", "models.assistant.training.epochs=1", "--set", "models.student.training.epochs=1",
                "--set", "seeds=[3]");
        assertEquals(0, r2.code(), r2.err());
    }

    @Test
    void everyModelOfTheSummaryIsInTheTableWithTheSameFigures() {
        assertEquals(5, summary.get("models").size());
        for (JsonNode m : summary.get("models")) {
            String id = m.get("id").asText();
            Element row = page.selectFirst("#models-table tr[data-model=" + id + "]");
            assertNotNull(row, "no row for " + id);
            List<String> cells = row.select("td").stream().map(Element::text).toList(); // eachText() drops empty cells
            assertEquals(id, cells.get(0));
            assertEquals(m.get("role").asText(), cells.get(1));
            String expected = m.get("test_accuracy_std").isNull()
                    ? f("%.4f", m.get("test_accuracy").asDouble())
                    : f("%.4f ± %.4f", m.get("test_accuracy_mean").asDouble(), m.get("test_accuracy_std").asDouble());
            assertEquals(expected, cells.get(3), id);
            assertTrue(cells.get(5).startsWith(f("%,d", m.get("params").asLong())), id + ": " + cells.get(5));
            assertTrue(cells.get(6).startsWith(f("%,d", m.get("nonzero_params").asLong())), id + ": " + cells.get(6));
            assertTrue(cells.get(7).startsWith(f("%,d", m.get("file_bytes").asLong())), id + ": " + cells.get(7));
            assertTrue(cells.get(8).startsWith(f("%,d", m.get("flops_per_sample").asLong())), id + ": " + cells.get(8));
        }
        assertEquals(1, page.select("#models-table tr.pick").size(), "one model highlighted");
        assertTrue(page.text().contains("within 1 point of the best student"), "the page states its rule");
    }

    @Test
    void thePageStatesTheVerdictOfEveryDistilledModelAsTheSummaryAndReportMdDo() throws Exception {
        String markdown = Files.readString(runDir.resolve("report.md"));
        int judged = 0;
        for (JsonNode m : summary.get("models")) {
            String id = m.get("id").asText();
            Element line = page.selectFirst("#verdicts li[data-model=" + id + "]");
            if (m.get("kd_verdict") == null || m.get("kd_verdict").isNull()) {
                assertEquals(null, line, id + " has no baseline verdict, so no line");
                continue;
            }
            judged++;
            String verdict = m.get("kd_verdict").asText();
            assertNotNull(line, "no verdict line for " + id);
            assertEquals(id + ": " + verdict, line.text());
            assertTrue(markdown.contains(id + ": " + verdict), "report.md says the same of " + id);
            assertTrue(verdict.matches(".*(helped by|hurt by|did not help).*± .* Welch p=.*"), verdict);
            double p = m.get("kd_gain_p").asDouble();
            String kind = p >= KdVerdict.SIGNIFICANCE ? "none" : m.get("kd_gain").asDouble() > 0 ? "helped" : "hurt";
            assertEquals("verdict-" + kind, line.className(), id);
        }
        // two seeds, a baseline: both distilled students are judged
        assertEquals(2, judged, summary.toString());
    }

    @Test
    void summaryHasNonZeroParamsLayersAndLogitTimes() throws Exception {
        for (JsonNode m : summary.get("models")) {
            long nonzero = m.get("nonzero_params").asLong();
            assertTrue(nonzero > 0 && nonzero <= m.get("params").asLong(), m.get("id").asText());
            long layerParams = 0;
            long layerMacs = 0;
            for (JsonNode l : m.get("layers")) {
                layerParams += l.get("params").asLong();
                layerMacs += l.get("multiply_adds").asLong();
                assertFalse(l.get("type").asText().isEmpty());
                assertFalse(l.get("output_shape").asText().isEmpty());
            }
            assertEquals(m.get("params").asLong(), layerParams, m.get("id").asText());
            assertEquals(m.get("flops_per_sample").asLong(), layerMacs, m.get("id").asText());
            // one per-layer table per model, with sparsity and bit width read from the file
            assertTrue(html.contains("32-bit float"));
        }
        assertTrue(summary.get("logits_seconds").get("teacher").asDouble() > 0);
        assertTrue(summary.get("logits_seconds").has("assistant-from-teacher"));
        assertEquals(5, page.select("table.layers").size());
    }

    @Test
    void predictionsAreSavedAndTheConfusionMatricesDrawn() throws Exception {
        int test = summary.get("dataset").get("test").asInt();
        JsonNode labels = new ObjectMapper().readTree(runDir.resolve("predictions/test-labels.json").toFile());
        assertEquals(test, labels.get("labels").size());
        for (JsonNode m : summary.get("models")) {
            JsonNode p = new ObjectMapper().readTree(runDir.resolve("predictions/" + m.get("id").asText() + ".json")
                    .toFile());
            int correct = 0;
            for (int i = 0; i < test; i++) {
                if (p.get("predicted").get(i).asInt() == labels.get("labels").get(i).asInt()) {
                    correct++;
                }
            }
            // the saved predictions are those of the model in the file, whose accuracy the summary records
            assertEquals(m.get("test_accuracy").asDouble(), (double) correct / test, 1e-12, m.get("id").asText());
        }
        List<Element> matrices = page.select("table.cm");
        assertEquals(2, matrices.size(), "teacher and shipped student");
        assertTrue(matrices.get(0).selectFirst("caption").text().startsWith("teacher "));
        String shipped = best("student");
        assertTrue(matrices.get(1).selectFirst("caption").text().startsWith(shipped + " "), shipped);
        int sum = 0;
        for (Element cell : matrices.get(0).select("td")) {
            sum += cell.text().isEmpty() ? 0 : Integer.parseInt(cell.text());
        }
        assertEquals(test, sum, "the teacher's matrix counts every test example once");
        assertNotNull(page.selectFirst("#losses"));
    }

    @Test
    void thePageReferencesNothingOutsideItself() {
        for (Element e : page.select("[src], [href]")) {
            String ref = e.hasAttr("src") ? e.attr("src") : e.attr("href");
            assertTrue(ref.startsWith("data:") || ref.startsWith("#"), "external reference: " + ref);
        }
        for (Element a : page.select("a[href^=#]")) {
            assertNotNull(page.getElementById(a.attr("href").substring(1)), "dangling anchor " + a.attr("href"));
        }
        assertTrue(page.select("script, link, iframe, object, embed").isEmpty());
        String withoutImages = html.replaceAll("data:image/png;base64,[A-Za-z0-9+/=]+", "");
        for (String s : List.of("http:", "https:", "//")) {
            assertFalse(withoutImages.contains(s), "the page contains " + s);
        }
    }

    @Test
    void everyImageIsAnInlinePngThatDecodes() throws Exception {
        List<Element> images = page.select("img");
        // curves of teacher, assistant and student (loss and accuracy each) and the Pareto plot
        assertEquals(7, images.size());
        for (Element img : images) {
            String src = img.attr("src");
            assertTrue(src.startsWith("data:image/png;base64,"), src.substring(0, Math.min(40, src.length())));
            byte[] png = Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, img.attr("alt"));
            assertTrue(image.getWidth() > 100 && image.getHeight() > 100, img.attr("alt"));
            assertFalse(img.attr("alt").isEmpty());
            assertTrue(notBlank(image), img.attr("alt") + " is blank");
        }
    }

    @Test
    void reportRegeneratesTheSamePagesFromTheRunDirectory() throws Exception {
        Path copy = copyRun("regenerated");
        String markdown = Files.readString(copy.resolve("report.md"));
        Files.delete(copy.resolve("report.html"));
        Files.delete(copy.resolve("report.md"));
        CliRun r = CliRun.of("report", copy.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(html, Files.readString(copy.resolve("report.html")));
        assertEquals(markdown, Files.readString(copy.resolve("report.md")));
    }

    @Test
    void aByteBudgetHighlightsTheMostAccurateModelThatFits() throws Exception {
        Path copy = copyRun("budget");
        long budget = 0;
        for (JsonNode m : summary.get("models")) {
            if (m.get("role").asText().equals("assistant")) {
                budget = m.get("file_bytes").asLong();
            }
        }
        CliRun r = CliRun.of("report", copy.toString(), "--budget-bytes", String.valueOf(budget));
        assertEquals(0, r.code(), r.err());
        String expected = null;
        double bestAccuracy = -1;
        for (JsonNode m : summary.get("models")) {
            double acc = m.get("test_accuracy_mean").isNull() ? m.get("test_accuracy").asDouble()
                    : m.get("test_accuracy_mean").asDouble();
            if (m.get("file_bytes").asLong() <= budget && acc > bestAccuracy) {
                bestAccuracy = acc;
                expected = m.get("id").asText();
            }
        }
        Document budgeted = Jsoup.parse(Files.readString(copy.resolve("report.html")));
        assertEquals(expected, budgeted.selectFirst("#models-table tr.pick").attr("data-model"));
        assertTrue(budgeted.text().contains(f("at most %,d bytes", budget)));
    }

    @Test
    void compareWritesOnePageWithTheModelsOfBothRuns() throws Exception {
        Path out = temp.resolve("compare.html");
        CliRun r = CliRun.of("compare", runDir.toString(), otherRun.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode other = new ObjectMapper().readTree(otherRun.resolve("summary.json").toFile());
        Document compare = Jsoup.parse(Files.readString(out));
        List<String> rows = new ArrayList<>();
        for (Element row : compare.select("#models-table tr[data-model]")) {
            rows.add(row.select("td").get(0).text() + " / " + row.attr("data-model"));
        }
        List<String> expected = new ArrayList<>();
        summary.get("models").forEach(m -> expected.add("digits-takd (digits) / " + m.get("id").asText()));
        other.get("models").forEach(m -> expected.add("digits-takd (digits-assistant-only) / " + m.get("id").asText()));
        assertEquals(expected, rows);
        for (JsonNode m : other.get("models")) {
            assertTrue(r.out().contains(m.get("id").asText()), "the console table too");
        }
        List<Element> images = compare.select("img");
        assertEquals(1, images.size(), "one Pareto plot of all runs");
        byte[] png = Base64.getDecoder().decode(images.get(0).attr("src").substring("data:image/png;base64,".length()));
        assertNotNull(ImageIO.read(new ByteArrayInputStream(png)));
    }

    @Test
    void reportErrorsNameTheFile() throws Exception {
        Path unfinished = Files.createDirectories(temp.resolve("unfinished"));
        CliRun r = CliRun.of("report", unfinished.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("error: " + unfinished.resolve("summary.json")), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        Path broken = copyRun("broken-metrics");
        Files.writeString(broken.resolve("metrics.jsonl"), "{\"model\": \"teacher\"}\n", StandardCharsets.UTF_8);
        r = CliRun.of("report", broken.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("error: " + broken.resolve("metrics.jsonl") + ":1: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        Path noDataset = copyRun("broken-summary");
        Files.writeString(noDataset.resolve("summary.json"), "{\"name\": \"x\", \"seeds\": [], \"models\": []}");
        r = CliRun.of("report", noDataset.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("error: " + noDataset.resolve("summary.json")), r.err());

        Path badPredictions = copyRun("broken-predictions");
        Files.writeString(badPredictions.resolve("predictions/teacher.json"), "{\"predicted\": [1, 2]}");
        r = CliRun.of("report", badPredictions.toString());
        assertEquals(DistillCli.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("error: " + badPredictions.resolve("predictions/teacher.json")), r.err());
    }

    @Test
    void aRunWithoutPredictionsStillGetsAPage() throws Exception {
        // runs made before predictions were kept: the page says what it cannot show instead of failing
        Path old = copyRun("no-predictions");
        try (Stream<Path> files = Files.walk(old.resolve("predictions"))) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        CliRun r = CliRun.of("report", old.toString());
        assertEquals(0, r.code(), r.err());
        Document d = Jsoup.parse(Files.readString(old.resolve("report.html")));
        assertTrue(d.text().contains("No test predictions in this run directory"));
        assertEquals(5, d.select("#models-table tr[data-model]").size());
    }

    @Test
    void backfillRecomputesMissingPredictionsAndLayersFromTheRunsConfigAndData() throws Exception {
        // what a run made before this version lacks: predictions/ and the layers of summary.json
        Path old = copyRun("backfill");
        String teacherPredictions = Files.readString(old.resolve("predictions/teacher.json"));
        try (Stream<Path> files = Files.walk(old.resolve("predictions"))) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        ObjectMapper mapper = new ObjectMapper();
        JsonNode stripped = mapper.readTree(old.resolve("summary.json").toFile());
        stripped.get("models").forEach(m -> ((com.fasterxml.jackson.databind.node.ObjectNode) m).remove("layers"));
        mapper.writeValue(old.resolve("summary.json").toFile(), stripped);
        CliRun r = CliRun.of("report", old.toString(), "--backfill");
        assertEquals(0, r.code(), r.err());
        Document d = Jsoup.parse(Files.readString(old.resolve("report.html")));
        assertEquals(2, d.select("table.cm").size());
        assertEquals(5, d.select("table.layers").size());
        JsonNode original = mapper.readTree(teacherPredictions);
        JsonNode recomputed = mapper.readTree(old.resolve("predictions/teacher.json").toFile());
        assertEquals(original.get("predicted"), recomputed.get("predicted"), "the saved teacher predicts the same");
    }

    @Test
    void summaryIsWrittenAfterTheReports() throws Exception {
        long html = Files.getLastModifiedTime(runDir.resolve("report.html")).toMillis();
        long md = Files.getLastModifiedTime(runDir.resolve("report.md")).toMillis();
        long json = Files.getLastModifiedTime(runDir.resolve("summary.json")).toMillis();
        assertTrue(md <= html && html <= json, md + " " + html + " " + json);
    }

    /** CI installs chromium; elsewhere this test is skipped rather than failed. */
    @Test
    void theRenderScriptPassesTheReportAndFailsAPageWithAScriptError() throws Exception {
        Path script = repo().resolve(".ci/render-report.sh");
        Assumptions.assumeTrue(onPath("chromium"), "chromium not installed");
        assertEquals(0, bash(script, runDir.toString()), "the report renders without console errors");
        Path bad = Files.createDirectories(temp.resolve("bad-page"));
        Files.writeString(bad.resolve("report.html"), "<!DOCTYPE html><html><body><p>deliberate</p>"
                + "<script>notDefined();</script></body></html>");
        assertNotEquals(0, bash(script, bad.toString()), "a script error fails the render");
    }

    private static int bash(Path script, String arg) throws Exception {
        Process p = new ProcessBuilder("bash", script.toString(), arg).redirectErrorStream(true)
                .redirectOutput(temp.resolve("render-" + arg.hashCode() + ".log").toFile()).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "render timed out");
        return p.exitValue();
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static boolean notBlank(BufferedImage image) {
        int first = image.getRGB(0, 0);
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                if (image.getRGB(x, y) != first) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String best(String role) {
        String best = null;
        double accuracy = -1;
        for (JsonNode m : summary.get("models")) {
            if (m.get("role").asText().equals(role) && m.get("test_accuracy_mean").asDouble() > accuracy) {
                accuracy = m.get("test_accuracy_mean").asDouble();
                best = m.get("id").asText();
            }
        }
        assertNotNull(best, "no " + role);
        return best;
    }

    private static Path copyRun(String name) throws Exception {
        return CliRun.copyTree(runDir, temp.resolve(name));
    }

    static Path repo() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("configs/digits-takd.yaml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("configs/digits-takd.yaml not found above " + Path.of("").toAbsolutePath());
    }

    static Path config() {
        return CliRun.repoFile("configs/digits-takd.yaml");
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }


}
