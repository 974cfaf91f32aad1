package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Graph models through the whole chain on digits, for real: a graph teacher with residual and
 * concatenation blocks, a graph student (residual, concat, group conv with shuffle) distilled from
 * its logits, shipped files that plain DL4J loads as graphs, the
 * summary's per-block costs, the report; then the saved graph teacher loaded frozen to distil a zoo
 * student, and {@code evaluate} on a graph file.
 */
class GraphRunTest {

    @TempDir
    static Path temp;

    static Path runDir;
    static JsonNode summary;

    static String config() {
        return """
                name: digits-graph
                seed: 42
                data: {dataset: digits, path: '%s', classes: 10, batch_size: 64}
                models:
                  teacher:
                    graph:
                      - {name: stem, type: conv2d, filters: 8}
                      - {name: res, type: residual, filters: 8}
                      - {name: cat, type: concat, inputs: [stem, res]}
                      - {type: max_pool, size: 2}
                      - {type: dense, units: 32}
                      - {type: output}
                    training: {epochs: 3, learning_rate: 0.005}
                  student:
                    graph:
                      - {name: stem, type: conv2d, filters: 8}
                      - {name: res, type: residual, filters: 8}
                      - {name: cat, type: concat, inputs: [stem, res]}
                      - {name: gc, type: group_conv, filters: 8, groups: 2, shuffle: true}
                      - {type: global_pool}
                      - {type: output}
                    training: {epochs: 3, learning_rate: 0.01}
                distillation: {temperature: 2, soft_weight: 0.5, hard_weight: 0.5}
                chains: [[teacher, student]]
                baseline: false
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz"));
    }

    @BeforeAll
    static void run() throws Exception {
        Path file = temp.resolve("digits-graph.yaml");
        Files.writeString(file, config());
        runDir = temp.resolve("run");
        CliRun result = CliRun.of("run", file.toString(), "--out", runDir.toString());
        assertEquals(0, result.code(), result.err() + result.out());
        summary = new ObjectMapper().readTree(runDir.resolve("summary.json").toFile());
    }

    static JsonNode model(String id) {
        for (JsonNode m : summary.get("models")) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no model " + id);
    }

    @Test
    void graphTeacherAndStudentTrainAndDistil() {
        assertEquals(2, summary.get("models").size());
        assertTrue(model("teacher").get("test_accuracy").asDouble() > 0.8, "teacher " + model("teacher"));
        // three epochs of a 2,000-parameter student that sees the image only through global pooling:
        // well above chance (0.1), far from done
        JsonNode student = model("student-from-teacher");
        assertTrue(student.get("test_accuracy").asDouble() > 0.3, student.toString());
        assertEquals("teacher", model("student-from-teacher").get("distilled_from").asText());
        assertTrue(Files.isRegularFile(runDir.resolve("logits/teacher.bin")), "teacher logits cached");
        assertTrue(Files.isRegularFile(runDir.resolve("report.html")));
    }

    @Test
    void summaryHasEveryBlocksCostAndTheTotalsDl4jCounts() throws Exception {
        JsonNode student = model("student-from-teacher");
        List<String> types = new java.util.ArrayList<>();
        long params = 0;
        for (JsonNode l : student.get("layers")) {
            types.add(l.get("type").asText());
            params += l.get("params").asLong();
        }
        assertEquals(List.of("conv2d stem", "residual res", "concat cat", "group_conv gc", "global_pool global_pool_4",
                "output output_5"), types);
        // stem 9·8+8; residual 2·9·8·8 + 2·4·8; group conv 2 groups of 9·8·4 + 8; output 8·10+10
        assertEquals(80 + 1216 + 584 + 90, params);
        assertEquals(params, student.get("params").asLong());
        ComputationGraph shipped = ModelSerializer.restoreComputationGraph(
                runDir.resolve(student.get("file").asText()).toFile(), false);
        assertEquals(params, shipped.numParams());
        BaseOutputLayer out = (BaseOutputLayer) ((LayerVertex) shipped.getConfiguration().getVertices()
                .get(shipped.getConfiguration().getNetworkOutputs().get(0))).getLayerConf().getLayer();
        assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
        assertInstanceOf(LossMCXENT.class, out.getLossFn());
    }

    /**
     * A run interrupted after its graph teacher: resumed, the students are distilled from the teacher
     * read back from its shipped file (its logits computed again) and come out as they did the first time.
     */
    @Test
    void resumedAfterTheGraphTeacherGivesTheSameStudents() throws Exception {
        Path copy = CliRun.copyTree(runDir, temp.resolve("resumed"));
        Files.delete(copy.resolve("summary.json"));
        Files.delete(copy.resolve("logits/teacher.bin"));
        // interrupted after the teacher: only it is finished
        RunDirectory dir = RunDirectory.open(copy);
        dir.write(dir.progress().without(f -> !f.id().equals("teacher")));
        CliRun r = CliRun.of("resume", copy.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("logits of teacher on"), r.out());
        JsonNode again = new ObjectMapper().readTree(copy.resolve("summary.json").toFile());
        for (JsonNode m : again.get("models")) {
            assertEquals(model(m.get("id").asText()).get("test_accuracy").asDouble(), m.get("test_accuracy").asDouble(),
                    0.0, m.get("id").asText());
        }
        assertEquals(-1, java.util.Arrays.mismatch(Files.readAllBytes(runDir.resolve("predictions/student-from-teacher.json")),
                Files.readAllBytes(copy.resolve("predictions/student-from-teacher.json"))), "the same predictions");
    }

    @Test
    void sensitivityRefusesAGraphInOneLine() {
        CliRun r = CliRun.of("sensitivity", runDir.toString(), "--model", "student-from-teacher");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("error: " + runDir.resolve("models/student-from-teacher.zip") + ": distill sensitivity supports"
                + " sequential models (layers:) only, not graph models", r.err().strip());
    }

    @Test
    void aSavedGraphTeacherDistilsAZooStudentAndEvaluates() throws Exception {
        Path file = temp.resolve("from-file.yaml");
        Files.writeString(file, """
                name: digits-zoo
                seed: 1
                data: {dataset: digits, path: '%s', classes: 10, batch_size: 32}
                models:
                  teacher: {file: '%s'}
                  student: {zoo: mobilenet-tiny, width: 0.5, training: {epochs: 1, learning_rate: 0.01}}
                chains: [[teacher, student]]
                baseline: false
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz"), runDir.resolve("models/teacher.zip")));
        Path second = temp.resolve("second");
        CliRun result = CliRun.of("run", file.toString(), "--out", second.toString());
        assertEquals(0, result.code(), result.err() + result.out());
        JsonNode s = new ObjectMapper().readTree(second.resolve("summary.json").toFile());
        assertEquals(model("teacher").get("test_accuracy").asDouble(),
                s.get("models").get(0).get("test_accuracy").asDouble(), 0.0, "the same teacher, loaded");
        // one epoch of a 2,000-parameter MobileNet: well above chance (0.1), far from done
        assertTrue(s.get("models").get(1).get("test_accuracy").asDouble() > 0.2, s.toString());
        CliRun evaluate = CliRun.of("evaluate", runDir.resolve("models/student-from-teacher.zip").toString(), "--data",
                temp.resolve("digits-graph.yaml").toString());
        assertEquals(0, evaluate.code(), evaluate.err());
        assertTrue(evaluate.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f",
                model("student-from-teacher").get("test_accuracy").asDouble())), evaluate.out());
    }
}
