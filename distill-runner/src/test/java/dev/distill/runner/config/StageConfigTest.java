package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.lowrank.LowRankSettings;
import dev.distill.core.prune.MagnitudePruner;
import dev.distill.core.prune.PruneSettings;
import dev.distill.core.quant.QuantSettings;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code stages:} block: defaults, and bad stage configs that fail with one line naming the
 * file, the line (marked {@code # <-} in each YAML) and the key.
 */
class StageConfigTest {

    @TempDir
    Path dir;

    static final String BASE = """
            name: small
            data: {dataset: digits, path: '%s'}
            models:
              teacher:
                layers: [{type: conv2d, filters: 4}, {type: max_pool}, {type: dense, units: 16}, {type: output}]
              student:
                layers: [{type: dense, units: 8}, {type: output}]
            chains:
              - [teacher, student]
            stages:
            """.formatted(CliRun.repoFile("datasets/digits.csv.gz"));

    ExperimentConfig load(String stages) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, BASE + stages);
        return ConfigLoader.load(file);
    }

    void assertError(String stages, String keyPath, String problem) throws IOException {
        LocatedErrors.assertError(dir.resolve("config.yaml"), BASE + stages, keyPath, problem);
    }

    @Test
    void anExportStageLoadsAndItsKeysAreChecked() throws IOException {
        StageConfig.Export e = assertInstanceOf(StageConfig.Export.class,
                load("  - {type: export, format: onnx}\n").stages().get(0));
        assertEquals("onnx", e.format());
        assertEquals(List.of(), e.models(), "every final model");
        assertError("  - {type: export}   # <-\n", "stages[0]", "missing required key 'format': onnx");
        assertError("  - {type: export, format: onnx, sparsity: 0.5}   # <-\n", "stages[0].sparsity", "");
        assertError("  - {type: export, format: onnx, models: [teacher]}   # <-\n", "stages[0].models",
                "'teacher' is not the last model of any chain");
    }

    @Test
    void anExportStageTakesGraphStudentsWhichTheOtherStagesRefuse() throws IOException {
        String graphStudent = BASE.replace("layers: [{type: dense, units: 8}, {type: output}]", "zoo: mobilenet-tiny");
        Files.writeString(dir.resolve("config.yaml"), graphStudent + "  - {type: export, format: onnx}\n");
        assertInstanceOf(StageConfig.Export.class, ConfigLoader.load(dir.resolve("config.yaml")).stages().get(0));
        Files.writeString(dir.resolve("config.yaml"), graphStudent + "  - {type: prune, sparsity: 0.5}\n");
        assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("config.yaml")));
    }

    @Test
    void aPruneStageLoadsWithItsDefaults() throws IOException {
        ExperimentConfig c = load("  - {type: prune, sparsity: 0.8}\n");
        StageConfig.Prune p = assertInstanceOf(StageConfig.Prune.class, c.stages().get(0));
        PruneSettings s = p.settings();
        assertEquals(List.of(), p.models(), "every chain's final student");
        assertTrue(p.distillLoss());
        assertNull(p.learningRate(), "the model's own");
        assertEquals(PruneSettings.Method.MAGNITUDE, s.method());
        assertEquals(MagnitudePruner.Scope.LAYER, s.scope());
        assertEquals(PruneSettings.Schedule.ONE_SHOT, s.schedule());
        assertEquals(0.8, s.sparsity());
        assertEquals(2, s.fineTuneEpochs());
        assertEquals(false, s.includeBiases());
        assertEquals(false, s.includeOutput());
        assertNull(s.maxAccuracyDrop());
    }

    @Test
    void everyKeyIsRead() throws IOException {
        ExperimentConfig c = load("""
                  - type: prune
                    models: [student]
                    method: magnitude
                    scope: global
                    sparsity: 0.9
                    layers: {dense_0: 0.95, output_1: 0.5}
                    include_biases: true
                    include_output: true
                    schedule: iterative
                    rounds: 4
                    fine_tune_epochs: 3
                    max_accuracy_drop: 0.005
                    loss: hard
                    learning_rate: 0.0005
                """);
        StageConfig.Prune p = (StageConfig.Prune) c.stages().get(0);
        assertEquals(List.of("student"), p.models());
        assertEquals(false, p.distillLoss());
        assertEquals(5e-4, p.learningRate());
        assertEquals(new PruneSettings(PruneSettings.Method.MAGNITUDE, MagnitudePruner.Scope.GLOBAL, 0.9,
                Map.of("dense_0", 0.95, "output_1", 0.5), true, true, PruneSettings.Schedule.ITERATIVE, 3, 4, 0.005,
                0, 0, 2, 10, dev.distill.core.prune.StructuredPruner.Norm.L1), p.settings());
    }

    @Test
    void sparsityOutsideZeroToOne() throws IOException {
        assertError("  - type: prune\n    sparsity: 1.0   # <-\n", "stages[0].sparsity", "must be in [0, 1)");
        assertError("  - type: prune\n    sparsity: -0.1   # <-\n", "stages[0].sparsity", "must be in [0, 1)");
        assertError("  - type: prune\n    sparsity: 0.5\n    layers: {dense_0: 1.5}   # <-\n",
                "stages[0].layers.dense_0", "must be in [0, 1)");
    }

    @Test
    void unknownLayerNameListsThePrunableOnes() throws IOException {
        assertError("  - type: prune\n    sparsity: 0.5\n    layers:\n      dense_3: 0.9   # <-\n",
                "stages[0].layers.dense_3", "no prunable layer 'dense_3' in model student; its prunable layers: dense_0");
        assertError("  - type: prune\n    sparsity: 0.5\n    layers:\n      output_1: 0.9   # <-\n",
                "stages[0].layers.output_1", "set include_output: true");
    }

    @Test
    void scheduleEndBeforeStart() throws IOException {
        assertError("  - type: prune\n    sparsity: 0.5\n    schedule: gradual\n    fine_tune_epochs: 5\n"
                + "    start_epoch: 3\n    end_epoch: 2   # <-\n", "stages[0].end_epoch", "before or where it starts");
        assertError("  - type: prune\n    sparsity: 0.5\n    schedule: gradual\n    fine_tune_epochs: 3\n"
                + "    end_epoch: 5   # <-\n", "stages[0].end_epoch", "after the last fine-tuning epoch");
    }

    @Test
    void unknownKeysTypesAndValues() throws IOException {
        assertError("  - type: prune\n    sparsity: 0.5\n    sparsty: 0.5   # <-\n", "stages[0].sparsty",
                "unknown key; known keys here: sparsity");
        assertError("  - type: squash   # <-\n", "stages[0].type", "unknown stage type 'squash'; known: prune, low_rank, quantize, export");
        assertError("  - type: prune\n    sparsity: 0.5\n    schedule: sometimes   # <-\n", "stages[0].schedule",
                "known: one_shot, gradual, iterative");
        assertError("  - type: prune\n    sparsity: 0.5\n    loss: soft   # <-\n", "stages[0].loss", "known: distill");
        assertError("  - type: prune   # <-\n", "stages[0].sparsity", "missing required key");
    }

    @Test
    void stagesApplyOnlyToChainsFinalStudents() throws IOException {
        assertError("  - type: prune\n    sparsity: 0.5\n    models: [teacher]   # <-\n", "stages[0].models",
                "'teacher' is not the last model of any chain");
    }

    @Test
    void structuredPruningIsPerLayerAndOneShot() throws IOException {
        assertError("  - type: prune\n    method: structured\n    sparsity: 0.5\n    scope: global   # <-\n",
                "stages[0].scope", "use scope: layer");
        assertError("  - type: prune\n    method: structured\n    sparsity: 0.5\n    schedule: iterative   # <-\n",
                "stages[0].schedule", "one_shot");
        assertError("  - type: prune\n    method: structured\n    sparsity: 0.5\n    layers: {output_1: 0.5}   # <-\n",
                "stages[0].layers.output_1", "its prunable layers: dense_0");
    }

    @Test
    void shippedPruningConfigsLoadWithTheirStages() {
        ExperimentConfig takd = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-takd-prune.yaml"));
        assertEquals(2, takd.stages().size());
        PruneSettings first = ((StageConfig.Prune) takd.stages().get(0)).settings();
        assertEquals(PruneSettings.Schedule.GRADUAL, first.schedule());
        assertEquals(0.8, first.sparsity());
        assertEquals(0.8, ((StageConfig.Prune) takd.stages().get(1)).settings().initialSparsity());
        ExperimentConfig methods = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-prune-methods.yaml"));
        assertEquals(List.of("student_s"), methods.stages().get(1).models());
        assertEquals(PruneSettings.Method.STRUCTURED, ((StageConfig.Prune) methods.stages().get(1)).settings().method());
        ExperimentConfig digits = ConfigLoader.load(CliRun.repoFile("configs/digits-compress.yaml"));
        assertEquals(MagnitudePruner.Scope.GLOBAL, ((StageConfig.Prune) digits.stages().get(0)).settings().scope());
    }

    @Test
    void aQuantizeStageLoadsWithItsDefaults() throws IOException {
        StageConfig.Quantize q = assertInstanceOf(StageConfig.Quantize.class,
                load("  - {type: quantize, scheme: kmeans}\n").stages().get(0));
        assertEquals(new QuantSettings(QuantSettings.Scheme.KMEANS, 4, true, true, QuantSettings.Calibration.MINMAX,
                99.99, 10, QuantSettings.Init.LINEAR, 2, false, false), q.settings());
        assertTrue(q.distillLoss());
        assertNull(q.learningRate());
        assertEquals(8, ((StageConfig.Quantize) load("  - {type: quantize, scheme: int8}\n").stages().get(0))
                .settings().bits());
        assertEquals(1, ((StageConfig.Quantize) load("  - {type: quantize, scheme: binary}\n").stages().get(0))
                .settings().bits());
    }

    @Test
    void everyQuantizeKeyIsRead() throws IOException {
        StageConfig.Quantize q = (StageConfig.Quantize) load("""
                  - type: quantize
                    models: [student]
                    scheme: int8
                    bits: 6
                    per_channel: false
                    symmetric: false
                    calibration: {method: percentile, percentile: 99.9, batches: 3}
                    qat: true
                    fine_tune_epochs: 1
                    huffman: true
                    loss: hard
                    learning_rate: 0.0002
                """).stages().get(0);
        assertEquals(List.of("student"), q.models());
        assertEquals(false, q.distillLoss());
        assertEquals(2e-4, q.learningRate());
        assertEquals(new QuantSettings(QuantSettings.Scheme.INT8, 6, false, false,
                QuantSettings.Calibration.PERCENTILE, 99.9, 3, QuantSettings.Init.LINEAR, 1, true, true), q.settings());
        assertEquals(QuantSettings.Init.KMEANS_PLUS_PLUS, ((StageConfig.Quantize) load(
                "  - {type: quantize, scheme: kmeans, init: kmeans++}\n").stages().get(0)).settings().init());
    }

    @Test
    void bitsOutsideOneToEightAndUnknownSchemesAreRejectedNamingTheKey() throws IOException {
        assertError("  - type: quantize\n    scheme: int8\n    bits: 9   # <-\n", "stages[0].bits", "must be in 2..8 for scheme int8 (1 is scheme binary), got 9");
        assertError("  - type: quantize\n    scheme: kmeans\n    bits: 0   # <-\n", "stages[0].bits", "must be in 2..8 for scheme kmeans (1 is scheme binary), got 0");
        assertError("  - type: quantize\n    scheme: kmeans\n    bits: 1   # <-\n", "stages[0].bits",
                "must be in 2..8 for scheme kmeans (1 is scheme binary), got 1");
        assertError("  - type: quantize\n    scheme: binary\n    bits: 2   # <-\n", "stages[0].bits",
                "must be 1 for scheme binary");
        assertError("  - type: quantize\n    scheme: int4   # <-\n", "stages[0].scheme",
                "unknown value 'int4'; known: int8, kmeans, binary");
        assertError("  - type: quantize   # <-\n", "stages[0]", "missing required key 'scheme'");
        assertError("  - type: quantize\n    scheme: int8\n    calibration: {method: median}   # <-\n",
                "stages[0].calibration.method", "known: minmax, percentile");
        assertError("  - type: quantize\n    scheme: int8\n    calibration: {percentile: 40}   # <-\n",
                "stages[0].calibration.percentile", "must be in (50, 100]");
        assertError("  - type: quantize\n    scheme: kmeans\n    init: random   # <-\n", "stages[0].init",
                "known: linear, kmeans++");
        assertError("  - type: quantize\n    scheme: kmeans\n    qat: true   # <-\n", "stages[0].qat",
                "is for scheme int8");
        assertError("  - type: quantize\n    scheme: int8\n    fine_tune_epochs: 2   # <-\n",
                "stages[0].fine_tune_epochs", "only with qat: true");
        assertError("  - type: quantize\n    scheme: int8\n    bitz: 8   # <-\n", "stages[0].bitz", "unknown key");
    }

    @Test
    void shippedCompressionConfigsEndWithTheirQuantizeStages() {
        ExperimentConfig digits = ConfigLoader.load(CliRun.repoFile("configs/digits-compress.yaml"));
        List<StageConfig> d = digits.stages();
        // the digits config exports its final models after the two quantize stages
        assertInstanceOf(StageConfig.Export.class, d.get(d.size() - 1));
        assertEquals(QuantSettings.Scheme.INT8, ((StageConfig.Quantize) d.get(d.size() - 3)).settings().scheme());
        assertEquals(4, ((StageConfig.Quantize) d.get(d.size() - 2)).settings().bits());
        ExperimentConfig fashion = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-takd-compress.yaml"));
        assertEquals(List.of("teacher", "assistant", "student"), fashion.chains().get(0).models());
        assertInstanceOf(StageConfig.Prune.class, fashion.stages().get(4));
        assertEquals(QuantSettings.Scheme.KMEANS, ((StageConfig.Quantize) fashion.stages().get(5)).settings().scheme());
    }

    @Test
    void aLowRankStageLoadsWithItsDefaults() throws IOException {
        StageConfig.LowRank l = assertInstanceOf(StageConfig.LowRank.class,
                load("  - {type: low_rank, energy: 0.9}\n").stages().get(0));
        assertEquals(List.of(), l.models(), "every chain's final student");
        assertTrue(l.distillLoss());
        assertNull(l.learningRate(), "the model's own");
        assertEquals(new LowRankSettings(0.9, null, List.of(), LowRankSettings.Conv.FILTERS, 2), l.settings());
    }

    @Test
    void everyLowRankKeyIsRead() throws IOException {
        StageConfig.LowRank l = (StageConfig.LowRank) load("""
                  - type: low_rank
                    models: [student]
                    param_ratio: 0.5
                    layers: [dense_0]
                    conv: spatial
                    fine_tune_epochs: 3
                    loss: hard
                    learning_rate: 0.0005
                """).stages().get(0);
        assertEquals(List.of("student"), l.models());
        assertEquals(false, l.distillLoss());
        assertEquals(5e-4, l.learningRate());
        assertEquals(new LowRankSettings(null, 0.5, List.of("dense_0"), LowRankSettings.Conv.SPATIAL, 3), l.settings());
    }

    @Test
    void lowRankNeedsExactlyOneRankRuleInRange() throws IOException {
        assertError("  - type: low_rank   # <-\n", "stages[0]", "missing key energy or param_ratio");
        assertError("  - type: low_rank\n    energy: 0.9\n    param_ratio: 0.5   # <-\n", "stages[0].param_ratio",
                "energy is set too");
        assertError("  - type: low_rank\n    energy: 1.5   # <-\n", "stages[0].energy", "must be in (0, 1]");
        assertError("  - type: low_rank\n    param_ratio: 1   # <-\n", "stages[0].param_ratio", "must be in (0, 1)");
        assertError("  - type: low_rank\n    energy: 0.9\n    fine_tune_epochs: -1   # <-\n",
                "stages[0].fine_tune_epochs", "must be 0 or more");
    }

    @Test
    void lowRankLayersMustBeTheStudentsDenseOrConvLayers() throws IOException {
        assertError("  - type: low_rank\n    energy: 0.9\n    layers: [dense_3]   # <-\n", "stages[0].layers",
                "no layer 'dense_3' to factorize in model student; its dense and conv2d layers: dense_0");
        assertError("  - type: low_rank\n    energy: 0.9\n    layers: [output_1]   # <-\n", "stages[0].layers",
                "no layer 'output_1' to factorize");
        assertError("  - type: low_rank\n    energy: 0.9\n    layers: [dense_0, dense_0]   # <-\n",
                "stages[0].layers", "'dense_0' is listed twice");
    }

    @Test
    void lowRankUnknownKeysAndValues() throws IOException {
        assertError("  - type: low_rank\n    energy: 0.9\n    sparsity: 0.5   # <-\n", "stages[0].sparsity",
                "unknown key");
        assertError("  - type: low_rank\n    energy: 0.9\n    conv: depthwise   # <-\n", "stages[0].conv",
                "known: filters, spatial");
        assertError("  - type: low_rank\n    energy: 0.9\n    loss: soft   # <-\n", "stages[0].loss", "known: distill");
        assertError("  - type: low_rank\n    energy: 0.9\n    models: [teacher]   # <-\n", "stages[0].models",
                "'teacher' is not the last model of any chain");
        assertError("  - type: lowrank   # <-\n", "stages[0].type", "unknown stage type 'lowrank'; known: prune, low_rank, quantize, export");
    }

    @Test
    void layerNamesAfterALowRankStageAreRefusedAsTheyHaveMoved() throws IOException {
        assertError("  - {type: low_rank, energy: 0.9}\n  - type: prune\n    sparsity: 0.5\n"
                + "    layers: {dense_0: 0.5}   # <-\n", "stages[1].layers", "the low_rank stage before this one renumbers");
        assertError("  - {type: low_rank, energy: 0.9}\n  - type: low_rank\n    energy: 0.9\n"
                + "    layers: [dense_0]   # <-\n", "stages[1].layers", "leave out layers: here");
        assertEquals(2, load("  - {type: low_rank, energy: 0.9}\n  - {type: prune, sparsity: 0.5}\n").stages().size());
        assertEquals(2, load("  - {type: prune, sparsity: 0.5, layers: {dense_0: 0.5}}\n"
                + "  - {type: low_rank, energy: 0.9, layers: [dense_0]}\n").stages().size());
    }

    @Test
    void shippedLowRankConfigsLoadWithTheirStages() {
        ExperimentConfig digits = ConfigLoader.load(CliRun.repoFile("configs/digits-mobile.yaml"));
        StageConfig.LowRank d = (StageConfig.LowRank) digits.stages().get(0);
        assertEquals(0.5, d.settings().paramRatio());
        assertEquals(0.001, d.learningRate());
        ExperimentConfig fashion = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-lowrank.yaml"),
                CliRun.declaredModels("teacher"));
        StageConfig.LowRank f = (StageConfig.LowRank) fashion.stages().get(0);
        assertEquals(0.5, f.settings().paramRatio());
        assertEquals(List.of("dense_0"), f.settings().layers());
    }
}
