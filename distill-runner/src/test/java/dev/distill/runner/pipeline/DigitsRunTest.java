package dev.distill.runner.pipeline;

import dev.distill.runner.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The shipped digits config, end to end through the command line (epochs cut to keep the suite
 * short): every model of both chains and the baseline is trained, saved, reported, and the files
 * agree with summary.json.
 */
class DigitsRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static JsonNode summary;
    static String console;

    static final List<String> SHORT = List.of(
            "--set", "models.teacher.training.epochs=4",
            "--set", "models.assistant.training.epochs=4",
            "--set", "models.student.training.epochs=6",
            "--set", "seeds=[0, 1]");

    @BeforeAll
    static void runShippedConfig() throws Exception {
        runDir = temp.resolve("run");
        List<String> args = new ArrayList<>(List.of("run", config().toString(), "--out", runDir.toString()));
        args.addAll(SHORT);
        CliRun result = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, result.code(), result.err());
        console = result.out();
        summary = new ObjectMapper().readTree(runDir.resolve("summary.json").toFile());
    }

    static Path config() {
        return CliRun.repoFile("configs/digits-takd.yaml");
    }

    /** {@code distill run} of the shipped digits config into {@code dir} with {@code sets} (--set pairs); its summary. */
    static JsonNode runDigits(Path dir, List<String> sets) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", config().toString(), "--out", dir.toString()));
        args.addAll(sets);
        CliRun result = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, result.code(), result.err());
        return new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
    }

    @Test
    void summaryListsEveryModelOfBothChainsAndTheBaseline() {
        assertEquals("digits-takd", summary.get("name").asText());
        JsonNode dataset = summary.get("dataset");
        assertEquals("digits", dataset.get("name").asText());
        assertEquals(1797, dataset.get("train").asInt() + dataset.get("validation").asInt() + dataset.get("test").asInt());
        Map<String, String[]> expected = Map.of(
                "teacher", new String[] {"teacher", null},
                "student-from-teacher", new String[] {"student", "teacher"},
                "assistant-from-teacher", new String[] {"assistant", "teacher"},
                "student-from-assistant", new String[] {"student", "assistant-from-teacher"},
                "student-baseline", new String[] {"baseline", null});
        assertEquals(expected.size(), summary.get("models").size());
        for (JsonNode m : summary.get("models")) {
            String[] roleAndParent = expected.get(m.get("id").asText());
            assertNotNull(roleAndParent, "unexpected model " + m.get("id"));
            assertEquals(roleAndParent[0], m.get("role").asText());
            if (roleAndParent[1] == null) {
                assertTrue(m.get("distilled_from").isNull());
            } else {
                assertEquals(roleAndParent[1], m.get("distilled_from").asText());
            }
            double accuracy = m.get("test_accuracy").asDouble();
            assertTrue(accuracy > 0.3 && accuracy <= 1.0, m.get("id") + " accuracy " + accuracy);
            assertTrue(m.get("flops_per_sample").asLong() > 0);
            assertTrue(m.get("train_seconds").asDouble() > 0);
        }
        assertEquals(53_002, model("teacher").get("params").asLong());
        assertEquals(1_210, model("student-baseline").get("params").asLong());
        // 64 inputs x 16 hidden + 16 x 10 outputs
        assertEquals(64 * 16 + 16 * 10, model("student-baseline").get("flops_per_sample").asLong());
        assertTrue(model("teacher").get("test_accuracy").asDouble() > 0.85, "4 epochs of the CNN on digits");
    }

    @Test
    void studentsAreRepeatedOverSeedsWithMeanAndStd() {
        for (String id : List.of("student-from-teacher", "student-from-assistant", "student-baseline")) {
            JsonNode m = model(id);
            JsonNode perSeed = m.get("test_accuracy_per_seed");
            assertEquals(2, perSeed.size(), id);
            double mean = (perSeed.get(0).asDouble() + perSeed.get(1).asDouble()) / 2;
            assertEquals(mean, m.get("test_accuracy_mean").asDouble(), 1e-12);
            double std = Math.abs(perSeed.get(0).asDouble() - perSeed.get(1).asDouble()) / Math.sqrt(2);
            assertEquals(std, m.get("test_accuracy_std").asDouble(), 1e-12);
            assertEquals(perSeed.get(0).asDouble(), m.get("test_accuracy").asDouble(), 0.0, "first seed's model");
            assertTrue(Files.isRegularFile(runDir.resolve("models/" + id + "-seed1.zip")));
        }
        assertTrue(model("teacher").get("test_accuracy_std").isNull(), "the teacher is trained once");
    }

    @Test
    void savedModelsAreShippableAndMatchTheSummary() throws Exception {
        for (JsonNode m : summary.get("models")) {
            Path file = runDir.resolve(m.get("file").asText());
            assertEquals(Files.size(file), m.get("file_bytes").asLong(), file.toString());
            MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false);
            BaseOutputLayer out = assertInstanceOf(BaseOutputLayer.class,
                    net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer());
            assertInstanceOf(LossMCXENT.class, out.getLossFn(), "shipped without the distillation loss");
            assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
            assertEquals(m.get("params").asLong(), net.numParams());
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
                assertNull(zip.getEntry("updaterState.bin"), "no optimizer state in a shipped file");
                assertNotNull(zip.getEntry("coefficients.bin"));
            }
        }
    }

    @Test
    void evaluateReproducesTheRecordedTestAccuracy() {
        JsonNode student = model("student-from-assistant");
        CliRun result = CliRun.of("evaluate", runDir.resolve(student.get("file").asText()).toString(), "--data",
                config().toString());
        assertEquals(0, result.code(), result.err());
        Matcher m = Pattern.compile("test accuracy (\\d\\.\\d{4})").matcher(result.out());
        assertTrue(m.find(), result.out());
        assertEquals(String.format(java.util.Locale.ROOT, "%.4f", student.get("test_accuracy").asDouble()), m.group(1));
    }

    @Test
    void teacherLogitsAreCachedOncePerTeacher() throws Exception {
        INDArray teacher = Nd4j.readBinary(runDir.resolve("logits/teacher.bin").toFile());
        int train = summary.get("dataset").get("train").asInt();
        assertEquals(train, teacher.rows());
        assertEquals(10, teacher.columns());
        assertTrue(Files.isRegularFile(runDir.resolve("logits/assistant-from-teacher.bin")));
        // the teacher is shared by two chains and its logits computed once
        assertEquals(1, count(console, "logits of teacher on"));
    }

    @Test
    void metricsHaveOneLinePerEpochOfEveryTrainingRun() throws Exception {
        List<String> lines = Files.readAllLines(runDir.resolve("metrics.jsonl"));
        // teacher 4 + assistant 4 + three students x 2 seeds x 6 epochs
        assertEquals(4 + 4 + 3 * 2 * 6, lines.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertEquals("teacher", first.get("model").asText());
        assertEquals(1, first.get("epoch").asInt());
        assertTrue(first.get("train_loss").asDouble() > 0);
        assertTrue(first.has("val_accuracy"));
    }

    @Test
    void reportAndCompareShowEveryModel() throws Exception {
        String report = Files.readString(runDir.resolve("report.md"));
        CliRun compare = CliRun.of("compare", runDir.toString());
        assertEquals(0, compare.code(), compare.err());
        for (JsonNode m : summary.get("models")) {
            String id = m.get("id").asText();
            assertTrue(report.contains("| " + id + " "), "report.md lacks " + id);
            assertTrue(compare.out().contains(id), "compare lacks " + id);
            assertTrue(console.contains(id));
        }
        assertTrue(Files.isRegularFile(runDir.resolve("config.yaml")));
        assertTrue(Files.readString(runDir.resolve("config.yaml")).contains("epochs: 4"),
                "the resolved config has the overrides");
    }

    @Test
    void sameConfigAndSeedGiveTheSameNumbers(@TempDir Path other) throws Exception {
        // a smaller chain, run twice: every accuracy and every epoch's loss must repeat exactly
        List<String> args = new ArrayList<>(List.of("run", config().toString(), "--out", "",
                "--set", "chains=[[assistant, student]]", "--set", "models.assistant.training.epochs=2",
                "--set", "models.student.training.epochs=2", "--set", "seeds=[3]", "--set", "baseline=false"));
        List<String> metrics = new ArrayList<>();
        List<String> accuracies = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path out = other.resolve("run" + i);
            args.set(3, out.toString());
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            metrics.add(Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                    .map(l -> l.replaceAll("\"seconds\":[^,]*,\"samples_per_s\":[^,]*,", "")).toList().toString());
            JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
            StringBuilder acc = new StringBuilder();
            s.get("models").forEach(m -> acc.append(m.get("id").asText()).append('=')
                    .append(m.get("test_accuracy").asText()).append(' '));
            accuracies.add(acc.toString());
        }
        assertEquals(metrics.get(0), metrics.get(1));
        assertEquals(accuracies.get(0), accuracies.get(1));
    }

    private static JsonNode model(String id) {
        for (JsonNode m : summary.get("models")) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no model " + id);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }


}
