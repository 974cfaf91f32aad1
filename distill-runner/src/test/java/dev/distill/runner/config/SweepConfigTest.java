package dev.distill.runner.config;

import dev.distill.core.chain.DistillationSettings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.train.LearningRateSchedule;
import dev.distill.runner.config.SweepConfig.Point;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code sweep:} block: a grid expands to every combination in a fixed order, a list of points is
 * taken as written, and bad blocks fail with one line naming the file, the line (marked {@code # <-})
 * and the key.
 */
class SweepConfigTest {

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
                training: {epochs: 7, learning_rate: 0.01}
            chains:
              - {models: [teacher, student], distillation: {temperature: 3, soft_weight: 0.7, hard_weight: 0.3}}
            """.formatted(CliRun.repoFile("datasets/digits.csv.gz"));

    ExperimentConfig load(String sweep) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, BASE + sweep);
        return ConfigLoader.load(file);
    }

    void assertError(String sweep, String keyPath, String problem) throws IOException {
        LocatedErrors.assertError(dir.resolve("config.yaml"), BASE + sweep, keyPath, problem);
    }

    @Test
    void aGridExpandsToEveryCombinationTheLastAxisFastest() throws IOException {
        SweepConfig s = load("""
                sweep:
                  grid:
                    temperature: [1, 4]
                    soft_weight: [0.1, 0.5, 0.9]
                    epochs: [5, 10]
                """).sweep();
        assertEquals(List.of("student"), s.models(), "by default every distilled model");
        assertEquals(12, s.points().size());
        assertEquals(List.of("T1-s0.1-h0.9-e5", "T1-s0.1-h0.9-e10", "T1-s0.5-h0.5-e5"),
                s.points().subList(0, 3).stream().map(Point::label).toList());
        assertEquals("T4-s0.9-h0.1-e10", s.points().get(11).label());
        Point p = s.points().get(5);
        assertEquals(0.9, p.softWeight());
        assertEquals(0.1, p.hardWeight(), 1e-12, "hard_weight defaults to 1 - soft_weight");
        assertNull(p.learningRate(), "an axis not swept keeps the link's own value");
    }

    @Test
    void theMethodIsAnAxisAndAnotherMethodStartsFromItsOwnDefaults() throws IOException {
        ExperimentConfig c = load("""
                sweep:
                  grid:
                    method: [kd, dkd]
                    temperature: [2]
                """);
        List<Point> points = c.sweep().points();
        assertEquals(List.of("kd-T2", "dkd-T2"), points.stream().map(Point::label).toList());
        DistillationSettings link = c.chains().get(0).distillation();
        assertEquals(DistillationSettings.kd(2, 0.7, 0.3), points.get(0).distillation(link), "kd keeps the link's weights");
        assertEquals(DistillationSettings.dkd(2, 1, 8, 1), points.get(1).distillation(link), "dkd: the paper's alpha, beta, hard");
    }

    @Test
    void alphaAndBetaAreAxesOfDkdPoints() throws IOException {
        ExperimentConfig c = load("""
                sweep:
                  grid:
                    method: [dkd]
                    temperature: [1, 2]
                    beta: [0.5, 2]
                """);
        List<Point> points = c.sweep().points();
        assertEquals(List.of("dkd-T1-b0.5", "dkd-T1-b2", "dkd-T2-b0.5", "dkd-T2-b2"),
                points.stream().map(Point::label).toList());
        DistillationSettings link = c.chains().get(0).distillation();
        assertEquals(DistillationSettings.dkd(2, 1, 0.5, 1), points.get(2).distillation(link));
        assertError("""
                sweep:
                  points:   # <-
                    - {beta: 2}
                """, "sweep.points", "alpha and beta belong to dkd");
        assertError("""
                sweep:
                  grid:
                    method: [dkd]
                    alpha: [-1]   # <-
                """, "sweep.grid.alpha", "must be a non-negative number, found -1.0");
    }

    @Test
    void anUnknownMethodOrASoftWeightForDkdIsOneLine() throws IOException {
        assertError("""
                sweep:
                  grid:
                    method: [kd, fitnet]   # <-
                """, "sweep.grid.method", "unknown distillation method 'fitnet'; known: kd, dkd");
        assertError("""
                sweep:
                  points:   # <-
                    - {method: dkd, soft_weight: 0.5}
                """, "sweep.points", "sets soft_weight, but student is distilled with method dkd there");
    }

    @Test
    void aPointKeepsTheLinksOwnSettingsForWhatItDoesNotSet() throws IOException {
        ExperimentConfig c = load("""
                sweep:
                  points:
                    - {temperature: 2}
                    - {learning_rate: 0.001, schedule: {type: cosine}}
                """);
        List<Point> points = c.sweep().points();
        DistillationSettings link = c.chains().get(0).distillation();
        assertEquals(new DistillationSettings(2, 0.7, 0.3), points.get(0).distillation(link));
        var training = ((ModelConfig.Declared) c.models().get("student")).training();
        assertEquals(7, points.get(1).training(training).epochs());
        assertEquals(0.001, points.get(1).training(training).learningRate());
        assertEquals(new LearningRateSchedule.Cosine(0), points.get(1).training(training).schedule());
        assertEquals("lr0.001-cosine", points.get(1).label());
    }

    @Test
    void theShippedSweepConfigsLoadWithTheSweepsTheyDeclare() {
        ExperimentConfig digits = ConfigLoader.load(CliRun.repoFile("configs/digits-sweep.yaml"));
        assertEquals(List.of("student"), digits.sweep().models());
        assertEquals(List.of("T1-s0.5-h0.5", "T1-s0.9-h0.1", "T4-s0.5-h0.5", "T4-s0.9-h0.1"),
                digits.sweep().points().stream().map(Point::label).toList());
        ExperimentConfig fashion = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-kd-sweep.yaml"),
                CliRun.declaredModels("teacher", "assistant"));
        assertEquals(List.of("T1-s0.5-h0.5", "T1-s0.9-h0.1", "T2-s0.5-h0.5"),
                fashion.sweep().points().stream().map(Point::label).toList());
        assertEquals(3, fashion.seeds().size());
        // the bar's student is the 784-128-10 MLP its comment names, on the 30-epoch cosine schedule
        ModelConfig.Declared student = (ModelConfig.Declared) fashion.models().get("student");
        assertEquals(101_770L, student.cost().params());
        assertEquals(30, student.training().epochs());
        assertEquals(new LearningRateSchedule.Cosine(0), student.training().schedule());
        ExperimentConfig cnn = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-kd-sweep-cnn.yaml"),
                CliRun.declaredModels("teacher", "assistant"));
        assertEquals(List.of("T1-s0.5-h0.5", "T2-s0.5-h0.5"), cnn.sweep().points().stream().map(Point::label).toList());
        ExperimentConfig mlps = ConfigLoader.load(CliRun.repoFile("configs/fashion-mnist-kd-mlp-cosine.yaml"),
                CliRun.declaredModels("teacher"));
        assertEquals(List.of("student", "wide"), mlps.sweep().models());
        assertEquals(List.of("T1-s0.5-h0.5", "T4-s0.5-h0.5", "T10-s0.2-h0.8"),
                mlps.sweep().points().stream().map(Point::label).toList());
    }

    @Test
    void anEmptyGridNamesTheGrid() throws IOException {
        assertError("""
                sweep:
                  grid: {}   # <-
                """, "sweep.grid", "empty grid");
    }

    @Test
    void anEmptyAxisNamesTheAxis() throws IOException {
        assertError("""
                sweep:
                  grid:
                    temperature: []   # <-
                """, "sweep.grid.temperature", "empty list");
    }

    @Test
    void aWeightOutsideZeroToOneNamesTheKey() throws IOException {
        assertError("""
                sweep:
                  grid:
                    soft_weight: [0.5,
                      1.5]   # <-
                """, "sweep.grid.soft_weight", "must be in [0, 1], found 1.5");
        assertError("""
                sweep:
                  points:
                    - {hard_weight: -0.1}   # <-
                """, "sweep.points[0].hard_weight", "must be in [0, 1], found -0.1");
    }

    @Test
    void aTemperatureOfZeroOrLessNamesTheKey() throws IOException {
        assertError("""
                sweep:
                  grid:
                    temperature: [0]   # <-
                """, "sweep.grid.temperature", "temperature must be a positive number, found 0.0");
    }

    @Test
    void gridAndPointsTogetherOrNeitherAreRejected() throws IOException {
        assertError("""
                sweep:
                  grid: {temperature: [1]}
                  points:   # <-
                    - {temperature: 2}
                """, "sweep.points", "either grid");
        assertError("""
                sweep:   # <-
                  models: [student]
                """, "sweep.grid", "missing");
    }

    @Test
    void aModelOutsideTheChainsOrLoadedFromAFileIsRejected() throws IOException {
        assertError("""
                sweep:
                  models: [studnet]   # <-
                  grid: {temperature: [1]}
                """, "sweep.models", "'studnet' is in no chain");
    }

    @Test
    void bothWeightsZeroAtSomePointIsRejected() throws IOException {
        assertError("""
                sweep:
                  grid:   # <-
                    soft_weight: [0]
                    hard_weight: [0, 1]
                """, "sweep.grid", "soft_weight and hard_weight must not both be zero");
    }

    @Test
    void aSweepWithoutAValidationSplitIsRejected() throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, BASE.replace("data: {dataset: digits,", "data: {dataset: digits, validation_split: 0,")
                + "sweep:   # <-\n  grid: {temperature: [1]}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        assertTrue(e.getMessage().contains("validation_split"), e.getMessage());
    }
}
