package dev.distill.runner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.core.io.ModelFiles;
import dev.distill.core.prune.SparseModelFile;
import dev.distill.core.quant.PackedModelFile;
import dev.distill.core.quant.QuantSettings;
import dev.distill.core.quant.Quantization;
import dev.distill.core.train.FineTuning;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.NetworkFactory;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.config.ModelConfig;
import dev.distill.runner.pipeline.ExperimentData;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** {@code distill bench} measures what it says on a real config and writes figures that add up. */
class BenchCommandTest {

    private static final String DIGITS = CliRun.repoFile("configs/digits-takd.yaml").toString();

    @Test
    void quickBenchOfBothConvBackendsWritesConsistentFigures(@TempDir Path dir) throws IOException {
        CliRun run = CliRun.of("bench", DIGITS, "--quick", "--repeats", "1", "--conv", "both", "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        double gemm = bench.get("gemm_gflops").asDouble();
        assertTrue(gemm > 0.1, "gemm " + gemm);
        assertTrue(bench.get("machine").get("native_build").asText().contains("onednn"), bench.get("machine").toString());
        assertTrue(bench.get("peak_rss_bytes").asLong() > 0);

        List<String> seen = new ArrayList<>();
        for (JsonNode m : bench.get("models")) {
            String id = m.get("model").asText() + "/" + m.get("conv_backend").asText();
            seen.add(id);
            for (String key : List.of("train_samples_per_s", "infer_samples_per_s", "infer_latency_ms_p50",
                    "flops_per_sample", "train_efficiency")) {
                double v = m.get(key).asDouble();
                assertTrue(v > 0 && Double.isFinite(v), id + " " + key + " = " + v);
            }
            assertTrue(m.get("infer_latency_ms_p99").asDouble() >= m.get("infer_latency_ms_p50").asDouble(), id);
            // train_efficiency is derived from the other figures as documented
            double expected = 3.0 * m.get("flops_per_sample").asDouble() * m.get("train_samples_per_s").asDouble()
                    / (gemm * 1e9);
            assertEquals(expected, m.get("train_efficiency").asDouble(), expected * 1e-9, id);
        }
        assertEquals(List.of("teacher/onednn", "teacher/dl4j", "assistant/onednn", "assistant/dl4j", "student/-"), seen);
        assertEquals(4, bench.get("models").get(0).get("one_dnn_layers").asInt(), "2 conv + 2 pool layers of the teacher");
        assertEquals(0, bench.get("models").get(1).get("one_dnn_layers").asInt());
        assertEquals(0, bench.get("models").get(4).get("one_dnn_layers").asInt());
        // distill-runtime's float path runs the conv teacher and the dense student alike
        assertTrue(bench.get("models").get(4).get("runtime_latency_ms_p50").asDouble() > 0);
        assertTrue(bench.get("models").get(0).get("runtime_latency_ms_p50").asDouble() > 0);
        // ONNX Runtime beside the first backend of every model (each exports), not measured twice
        for (int i : new int[] {0, 2, 4}) {
            JsonNode m = bench.get("models").get(i);
            assertTrue(m.get("onnx_runtime_infer_samples_per_s").asDouble() > 0, m.toString());
            assertTrue(m.get("onnx_runtime_latency_ms_p50").asDouble() > 0, m.toString());
        }
        assertTrue(bench.get("models").get(1).get("onnx_runtime_latency_ms_p50").isNull());
        // distill-runtime's float32 and post-training int8 paths timed in the same turns, first backend only
        for (int i : new int[] {0, 2, 4}) {
            JsonNode m = bench.get("models").get(i);
            for (String key : List.of("runtime_infer_samples_per_s", "int8_latency_ms_p50", "int8_infer_samples_per_s")) {
                assertTrue(m.get(key).asDouble() > 0, key + " " + m);
            }
        }
        assertTrue(bench.get("models").get(1).get("runtime_infer_samples_per_s").isNull());
        assertTrue(run.out().contains("distill-runtime float32: infer") && run.out().contains("x ONNX Runtime's latency"),
                run.out());
        assertTrue(run.out().contains("ONNX Runtime: infer"), run.out());
        // the teacher's 32-64 conv + 128 dense on 8x8 inputs, as the spec counts it
        assertEquals(2L * (8 * 8 * 32 * 9 + 4 * 4 * 64 * 32 * 9 + 2 * 2 * 64 * 128 + 128 * 10),
                bench.get("models").get(0).get("flops_per_sample").asLong());

        JsonNode kd = bench.get("kd_overhead");
        assertEquals("student", kd.get("model").asText());
        assertEquals(kd.get("kd_seconds_per_epoch").asDouble() / kd.get("hard_seconds_per_epoch").asDouble(),
                kd.get("ratio").asDouble(), 1e-9);
        assertTrue(run.out().contains("kd_overhead student") && run.out().contains("wrote "), run.out());

        // the first chain's teacher computing logits on every augmented view, serial and prefetched
        JsonNode live = bench.get("live_teacher_overhead");
        assertEquals("student", live.get("model").asText());
        assertEquals("teacher", live.get("teacher").asText());
        assertEquals("compiled runtime", live.get("teacher_engine").asText());
        assertEquals("shift 2, flip", live.get("augmentation").asText(), "the student has none of its own");
        assertEquals(512, live.get("examples").asInt());
        for (String mode : List.of("serial", "prefetched")) {
            double withTeacher = live.get(mode + "_live_seconds_per_epoch").asDouble();
            double onLabels = live.get(mode + "_labels_seconds_per_epoch").asDouble();
            assertTrue(withTeacher > 0 && onLabels > 0, live.toString());
            assertEquals(withTeacher / onLabels, live.get(mode + "_ratio").asDouble(), 1e-9, mode);
        }
        // the compiled teacher may be called by several threads: as many make its batches as a training may use
        assertEquals(dev.distill.models.network.ComputeThreads.allowed(), live.get("prefetch_threads").asInt());
        // the lowest ratio reachable: the teacher's forward passes over the epoch at the measured GEMM rate
        long teacherMacs = live.get("teacher_multiply_adds_per_view").asLong();
        assertEquals(bench.get("models").get(0).get("flops_per_sample").asLong(), 2 * teacherMacs);
        double bestGemm = live.get("best_gemm_gflops").asDouble();
        assertTrue(bestGemm >= bench.get("gemm_gflops").asDouble(), "the best repeat is at least the median");
        double atGemmRate = 2.0 * teacherMacs * 512 / (bestGemm * 1e9);
        assertEquals(atGemmRate, live.get("teacher_at_gemm_rate_seconds").asDouble(), 1e-12);
        double longerLabelsEpoch = Math.max(live.get("serial_labels_seconds_per_epoch").asDouble(),
                live.get("prefetched_labels_seconds_per_epoch").asDouble());
        assertEquals(Math.max(1.0, atGemmRate / longerLabelsEpoch), live.get("lowest_reachable_ratio").asDouble(), 1e-9);
        assertTrue(run.out().contains("live_teacher_overhead student (teacher teacher on compiled runtime, shift 2, flip,"
                + " 512 examples): serial "), run.out());
        assertTrue(run.out().contains("; prefetched (the teacher's batches on " + live.get("prefetch_threads").asInt()
                + " threads) "), run.out());
    }

    @Test
    void runDirectoryModelsAreMeasuredLargestFirstWithTheirRealSizes(@TempDir Path dir) throws IOException {
        ExperimentConfig config = ConfigLoader.load(Path.of(DIGITS));
        Path models = runDirectory(dir);
        ModelConfig.Declared teacher = (ModelConfig.Declared) config.models().get("teacher");
        ModelConfig.Declared student = (ModelConfig.Declared) config.models().get("student");
        ModelFiles.saveForShipping(NetworkFactory.build(teacher.spec(), config.data().input(), new Adam(1e-3), 0, 1),
                models.resolve("teacher.zip"));
        MultiLayerNetwork pruned = NetworkFactory.build(student.spec(), config.data().input(), new Adam(1e-3), 0, 1);
        Nd4j.getRandom().setSeed(5);
        INDArray w = pruned.getParam("0_W");
        w.muli(Nd4j.rand(DataType.FLOAT, w.shape()).gt(0.8).castTo(DataType.FLOAT));   // about 80% zeros
        SparseModelFile.write(pruned, models.resolve("student-pruned.sparse"));

        CliRun run = CliRun.of("bench", "--run", dir.resolve("run").toString(), "--quick", "--repeats", "1",
                "--models", "student", "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode saved = new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).get("saved_models");
        assertEquals(2, saved.size());
        assertEquals("teacher.zip", saved.get(0).get("file").asText());
        assertEquals("student-pruned.sparse", saved.get(1).get("file").asText());
        assertEquals(Files.size(models.resolve("student-pruned.sparse")), saved.get(1).get("file_bytes").asLong());
        assertEquals(student.cost().params(), saved.get(1).get("params").asLong());
        // the pruned weights and the biases (zero at initialisation) are not counted
        long nonzero = pruned.params().neq(0).castTo(DataType.INT32).sumNumber().longValue();
        assertTrue(nonzero < 0.3 * student.cost().params(), "pruning left " + nonzero);
        assertEquals(nonzero, saved.get(1).get("nonzero_params").asLong());
        assertTrue(saved.get(0).get("runtime_latency_ms_p50").asDouble() > 0, "the conv teacher runs on the runtime");
        assertTrue(saved.get(1).get("runtime_latency_ms_p50").asDouble() > 0);
        assertTrue(saved.get(1).get("infer_samples_per_s").asDouble() > 0);
        // both run on the compiled channels-last runtime too, with the time of each step
        assertTrue(saved.get(0).get("compiled_samples_per_s").asDouble() > 0);
        assertEquals("conv2d", saved.get(0).get("compiled_steps_ms").get(0).get("step").asText());
        assertTrue(saved.get(0).get("compiled_steps_ms").get(0).get("ms").asDouble() > 0);
        assertTrue(saved.get(1).get("compiled_samples_per_s").asDouble() > 0);
        assertTrue(saved.get(1).get("compiled_latency_ms_p50").asDouble() > 0);
        assertTrue(run.out().contains("compiled steps (ms per 256): conv2d "), run.out());
        // each file's runtime description exported to ONNX and timed beside the runtime
        for (JsonNode f : saved) {
            for (String key : List.of("onnx_runtime_latency_ms_p50", "onnx_runtime_infer_samples_per_s",
                    "runtime_infer_samples_per_s")) {
                assertTrue(f.get(key).asDouble() > 0, key + " " + f);
            }
        }
    }

    @Test
    void packedInt8StudentIsMeasuredOnTheIntegerPathBesideFloat(@TempDir Path dir) throws IOException {
        ExperimentConfig config = ConfigLoader.load(Path.of(DIGITS));
        Path models = runDirectory(dir);
        ModelConfig.Declared student = (ModelConfig.Declared) config.models().get("student");
        ExperimentData data = ExperimentData.load(config.data(), config.seed());
        TrainingSpec spec = new TrainingSpec(1, 32, Optimizer.ADAM, 1e-3, new LearningRateSchedule.Constant(), 0);
        FineTuning calibration = new FineTuning(
                s -> NetworkFactory.build(s, config.data().input(), spec.updater(), 0, 1), spec,
                data.train().features(), data.train().oneHot(), data.validation(), 1, List.of());
        QuantSettings int8 = new QuantSettings(QuantSettings.Scheme.INT8, 8, true, true,
                QuantSettings.Calibration.MINMAX, 99.99, 4, QuantSettings.Init.LINEAR, 0, false, false);
        Quantization.Outcome o = new Quantization(int8, calibration).run(
                NetworkFactory.build(student.spec(), config.data().input(), new Adam(1e-3), 0, 1), student.spec());
        PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, config.data().source().preprocessing(),
                config.data().source().classNames(), models.resolve("student-int8.packed"));

        CliRun run = CliRun.of("bench", "--run", dir.resolve("run").toString(), "--quick", "--repeats", "1",
                "--models", "student", "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode saved = new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).get("saved_models").get(0);
        assertEquals("student-int8.packed", saved.get("file").asText());
        assertEquals(Files.size(models.resolve("student-int8.packed")), saved.get("file_bytes").asLong());
        // the test JVM has the incubator module (surefire's argLine), so the Vector API kernel is the one used
        assertEquals("vector", saved.get("integer_kernel").asText());
        for (String key : List.of("integer_latency_ms_p50", "integer_scalar_latency_ms_p50", "runtime_latency_ms_p50")) {
            assertTrue(saved.get(key).asDouble() > 0, key + " " + saved.get(key));
        }
        assertTrue(run.out().contains("distill-runtime int8 batch-1 p50 "), run.out());
        for (String key : List.of("int8_infer_samples_per_s", "runtime_infer_samples_per_s", "onnx_runtime_latency_ms_p50",
                "onnx_runtime_infer_samples_per_s")) {
            assertTrue(saved.get(key).asDouble() > 0, key + " " + saved.get(key));
        }
        assertTrue(run.out().contains("ONNX Runtime (the file exported by PackedOnnxExporter)"), run.out());
        assertTrue(saved.get("infer_samples_per_s").isNull(), "DL4J does not run a packed file");
    }

    @Test
    void flatDataHaveNoLiveTeacherOverheadAndSayWhy(@TempDir Path dir) throws IOException {
        StringBuilder csv = new StringBuilder();
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 300; i++) {
            csv.append(String.format(java.util.Locale.ROOT, "%.4f,%.4f,%.4f,%d%n", i % 3 + random.nextGaussian(),
                    random.nextGaussian(), random.nextGaussian(), i % 3));
        }
        Files.writeString(dir.resolve("flat.csv"), csv);
        Path config = Files.writeString(dir.resolve("flat.yaml"), """
                name: flat
                seed: 1
                data:
                  dataset: csv
                  train: flat.csv
                  input: {features: 3}
                  classes: 3
                  batch_size: 32
                models:
                  teacher:
                    layers: [{type: dense, units: 16, activation: relu}, {type: output, classes: 3}]
                  student:
                    layers: [{type: dense, units: 4, activation: relu}, {type: output, classes: 3}]
                chains: [[teacher, student]]
                """);
        CliRun run = CliRun.of("bench", config.toString(), "--quick", "--repeats", "1", "--models", "student",
                "--out", dir.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode bench = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(bench.get("live_teacher_overhead").isNull(), bench.get("live_teacher_overhead").toString());
        assertTrue(bench.get("kd_overhead").get("ratio").asDouble() > 0);
        assertTrue(run.out().contains("live_teacher_overhead: skipped (augmentation needs images; the data are flat"),
                run.out());
    }

    /** An empty run directory of the digits config under {@code dir}: its models/ folder. */
    private static Path runDirectory(Path dir) throws IOException {
        Path models = Files.createDirectories(dir.resolve("run").resolve("models"));
        Files.copy(Path.of(DIGITS), dir.resolve("run").resolve("config.yaml"));
        return models;
    }

    @Test
    void unknownConvBackendIsOneLineNamingTheChoices(@TempDir Path dir) {
        CliRun run = CliRun.of("bench", DIGITS, "--quick", "--conv", "cudnn", "--out", dir.toString());
        assertEquals(2, run.code());
        assertEquals("error: --conv: unknown value 'cudnn' (expected auto, onednn, dl4j or both)", run.err().strip());
        assertTrue(Files.notExists(dir.resolve("bench.json")));
    }

    @Test
    void unknownModelIsOneLineNamingTheModels(@TempDir Path dir) {
        CliRun run = CliRun.of("bench", DIGITS, "--quick", "--models", "teacher,studnet", "--out", dir.toString());
        assertEquals(2, run.code());
        assertTrue(run.err().strip().endsWith("no model named 'studnet' (models: teacher, assistant, student)"),
                run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }

    @Test
    void percentilesFollowTheNearestRankRule() {
        List<Double> values = new ArrayList<>();
        for (int i = 100; i >= 1; i--) {
            values.add((double) i);
        }
        assertEquals(50.0, Stopwatch.median(values));
        assertEquals(99.0, Stopwatch.percentile(values, 99));
        assertEquals(100.0, Stopwatch.percentile(values, 100));
        assertEquals(7.0, Stopwatch.median(List.of(7.0)));
    }
}
