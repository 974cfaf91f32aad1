package dev.distill.runner.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.runner.testing.CliRun;
import dev.distill.runtime.Model;
import dev.distill.runtime.Op;
import dev.distill.runtime.QuantizedTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zoo graph student through the quantize stages (int8 and 4-bit k-means after training) and the export
 * stage, on the shipped digits: packed files the runtime loads with their weights coded, the same class as
 * the DL4J graph on every test example, and ONNX files checked in ONNX Runtime.
 */
class GraphQuantizeStageRunTest {

    @TempDir
    Path temp;

    @Test
    void aZooGraphStudentIsQuantizedAfterTrainingAndExported() throws Exception {
        Path runDir = temp.resolve("run");
        CliRun result = CliRun.of("run", CliRun.repoFile("configs/digits-compress.yaml").toString(), "--out",
                runDir.toString(), "--set", "models.teacher.training.epochs=1",
                "--set", "models.student={zoo: resnet-tiny, width: 0.5, training: {epochs: 2, learning_rate: 0.01}}",
                "--set", "stages=[{type: quantize, scheme: int8},"
                + " {type: quantize, scheme: kmeans, bits: 4, fine_tune_epochs: 0, huffman: true},"
                + " {type: export, format: onnx}]");
        assertEquals(0, result.code(), result.err());
        Map<String, JsonNode> models = CliRun.summaryModels(runDir);
        for (String id : List.of("student-from-teacher-int8", "student-from-teacher-kmeans4-huffman")) {
            JsonNode m = models.get(id);
            assertEquals("quantize", m.get("stage").asText(), id);
            JsonNode d = m.get("stage_details");
            assertTrue(d.get("graph").asBoolean(), d.toString());
            assertEquals(1.0, d.get("runtime_agreement_with_dl4j").asDouble(), d.toString());
            assertTrue(d.get("runtime_max_probability_difference").asDouble() <= 1e-5, d.toString());
            Path packed = runDir.resolve(m.get("file").asText());
            assertEquals(Files.size(packed), m.get("file_bytes").asLong());
            assertTrue(m.get("file_bytes").asLong() < models.get("student-from-teacher").get("file_bytes").asLong());
            Model model = Model.load(packed);
            long coded = model.description().ops().stream().map(Op::weights)
                    .filter(w -> w != null && w.kind() != QuantizedTensor.Kind.FLOAT).count();
            assertTrue(coded >= 3, id + ": " + coded + " coded weight tensors");
            assertTrue(model.description().ops().stream().anyMatch(o -> o.kind() == Op.Kind.ADD), "residual adds");
            assertTrue(Files.isRegularFile(runDir.resolve("models/" + id + ".onnx")), result.out());
        }
    }
}
