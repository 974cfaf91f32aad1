package dev.distill.runner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Trainer measured against DL4J's plain fit (with a profile of each by step kind), and a peer's
 * figures set beside ours, through {@code distill bench} on the digits config.
 */
class TrainerOverheadTest {

    private static final String DIGITS = CliRun.repoFile("configs/digits-takd.yaml").toString();

    @Test
    void benchSetsTheTrainerBesideThePlainFitAndThePeerBesideUs(@TempDir Path dir) throws IOException {
        // figures a peer script could have written (speed.py's keys); the ratios must be ours over these
        Path peer = dir.resolve("speed-torch.json");
        Files.writeString(peer, "{\"torch\": \"1.13\", \"student_train_samples_per_s\": 200000.0,"
                + " \"student_infer_samples_per_s\": 1000000.0, \"student_latency_ms_p50\": 0.02}");
        CliRun run = CliRun.of("bench", DIGITS, "--quick", "--repeats", "2", "--models", "student", "--peer",
                peer.toString(), "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());

        JsonNode t = bench.get("trainer_overhead").get(0);
        assertEquals("student", t.get("model").asText());
        double floor = t.get("floor_samples_per_s").asDouble();
        double trainer = t.get("trainer_samples_per_s").asDouble();
        assertTrue(floor > 0 && trainer > 0, t.toString());
        assertEquals(trainer / floor, t.get("wall_ratio").asDouble(), 1e-9);
        assertEquals(t.get("trainer_cpu_samples_per_s").asDouble() / t.get("floor_cpu_samples_per_s").asDouble(),
                t.get("cpu_ratio").asDouble(), 1e-9);
        for (String side : List.of("floor_profile", "trainer_profile")) {
            JsonNode p = t.get(side);
            if (p.size() == 0) {
                continue;   // a turn shorter than the sampling period on a fast machine leaves no samples
            }
            double sum = 0;
            for (String kind : List.of("data", "validation", "loss", "updater", "backward", "forward", "other")) {
                sum += p.get(kind).asDouble();
            }
            assertEquals(1.0, sum, 1e-9, side + " " + p);
            assertTrue(p.get("samples").asDouble() >= 1, side + " " + p);
        }
        assertEquals(0.0, t.get("floor_profile").path("data").asDouble(0), "the floor gathers no batches");
        assertTrue(run.out().contains("student    trainer "), run.out());

        JsonNode ratios = bench.get("peer").get("ratios");
        JsonNode model = bench.get("models").get(0);
        Map<String, double[]> expected = Map.of(
                "student training (DL4J plain fit)", new double[] {model.get("train_samples_per_s").asDouble(), 200000},
                "student inference, batch 256", new double[] {model.get("infer_samples_per_s").asDouble(), 1000000},
                "student training (distill's Trainer)", new double[] {trainer, 200000});
        int checked = 0;
        for (JsonNode r : ratios) {
            double[] e = expected.get(r.get("figure").asText());
            if (e != null) {
                assertEquals(e[0] / e[1], r.get("ratio").asDouble(), 1e-9, r.toString());
                checked++;
            }
            if (r.get("figure").asText().startsWith("student batch-1 latency")) {
                // a latency ratio is theirs over ours: above 1 means distill is faster, as for speeds
                assertEquals(0.02 / r.get("distill").asDouble(), r.get("ratio").asDouble(), 1e-9, r.toString());
                checked++;
            }
        }
        assertEquals(5, checked, ratios.toString());
        assertEquals("1.13", bench.get("peer").get("figures").get("torch").asText());
        assertTrue(run.out().contains("vs peer: student training (distill's Trainer)"), run.out());
    }

    @Test
    void aPeerFileThatIsNotJsonFailsBeforeTheBenchmarkInOneLine(@TempDir Path dir) throws IOException {
        Path peer = dir.resolve("speed-torch.json");
        Files.writeString(peer, "teacher 1945 samples/s\n");
        CliRun run = CliRun.of("bench", DIGITS, "--quick", "--peer", peer.toString(), "--out", dir.toString());
        assertEquals(2, run.code());
        assertTrue(run.err().strip().startsWith("error: " + peer + ": not a readable peer figures"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(Files.notExists(dir.resolve("bench.json")));
    }

    @Test
    void aSampleIsPutUnderTheFirstStepKindOnItsStack() {
        // the output layer's gradient calls the loss from inside backpropagation: the loss wins
        assertEquals(StepProfile.Kind.LOSS, StepProfile.kindOf(List.of("x.LossMCXENT.computeGradient",
                "org.deeplearning4j.nn.layers.BaseOutputLayer.getGradientsAndDelta",
                "org.deeplearning4j.nn.multilayer.MultiLayerNetwork.calcBackpropGradients")));
        assertEquals(StepProfile.Kind.BACKWARD, StepProfile.kindOf(List.of("x.NativeOps.exec",
                "org.deeplearning4j.nn.layers.BaseLayer.preOutputWithPreNorm",
                "org.deeplearning4j.nn.layers.BaseLayer.backpropGradient")));
        assertEquals(StepProfile.Kind.DATA, StepProfile.kindOf(List.of("x.Nd4j.pullRows",
                "dev.distill.core.train.Trainer.batch", "dev.distill.core.train.Trainer.fit")));
        assertEquals(StepProfile.Kind.OTHER, StepProfile.kindOf(List.of("java.lang.Thread.run")));
        assertEquals("no samples", StepProfile.describe(Map.of()));
    }
}
