package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.modelfile.ModelReader;
import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.testing.CliRun;
import dev.distill.runtime.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code data.normalize} on a CSV whose features span 0.002 to 8,000 (made here: the class shows in three
 * tiny features and one huge one, four huge ones are noise). Raw, the run warns and the networks learn
 * little; standardized on the training split, the same networks learn the classes; the packed export of
 * the standardized student takes the raw features and gives DL4J's answers on the normalized ones.
 */
class NormalizationRunTest {

    @TempDir
    static Path dir;

    static Path config;
    static CliRun raw;
    static CliRun standardized;
    static CliRun minmax;

    @BeforeAll
    static void runRawAndNormalized() throws Exception {
        StringBuilder csv = new StringBuilder();
        Random r = new Random(42);
        for (int i = 0; i < 900; i++) {
            int c = i % 3;
            double[] f = {
                (c + 0.5 * r.nextGaussian()) * 0.002,
                ((c == 1 ? 1 : 0) + 0.4 * r.nextGaussian()) * 0.005,
                ((c == 2 ? 1 : 0) + 0.4 * r.nextGaussian()) * 0.003,
                5000 + 3000 * r.nextGaussian(),
                5000 + 3000 * r.nextGaussian(),
                -2000 + 3000 * r.nextGaussian(),
                3000 * r.nextGaussian(),
                (0.4 * c + r.nextGaussian()) * 2000,
            };
            for (double v : f) {
                csv.append(String.format(Locale.ROOT, "%.6g,", v));
            }
            csv.append(c).append('\n');
        }
        Files.writeString(dir.resolve("wide.csv"), csv);
        config = Files.writeString(dir.resolve("wide.yaml"), """
                name: wide
                seed: 1
                data:
                  dataset: csv
                  train: wide.csv
                  input: {features: 8}
                  classes: 3
                  batch_size: 32
                models:
                  teacher:
                    layers: [{type: dense, units: 32, activation: relu}, {type: output, classes: 3}]
                    training: {epochs: 25}
                  student:
                    layers: [{type: dense, units: 8, activation: relu}, {type: output, classes: 3}]
                    training: {epochs: 25}
                chains: [[teacher, student]]
                baseline: false
                """);
        raw = run("none");
        standardized = run("standardize");
        minmax = run("minmax");
    }

    static CliRun run(String normalize) {
        CliRun r = CliRun.of("run", config.toString(), "--out", dir.resolve(normalize).toString(), "--set",
                "data.normalize=" + normalize);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    static double accuracy(String normalize, String id) throws Exception {
        return CliRun.summaryModels(dir.resolve(normalize)).get(id).get("test_accuracy").asDouble();
    }

    @Test
    void rawFeaturesOfWideScalesAreWarnedAboutAndNormalizedOnesAreNot() {
        assertTrue(raw.out().contains("warning: the features' ranges differ by"), raw.out());
        assertTrue(raw.out().contains("set data.normalize: standardize (or minmax)"), raw.out());
        assertFalse(standardized.out().contains("warning: the features' ranges"), standardized.out());
        assertFalse(minmax.out().contains("warning: the features' ranges"), minmax.out());
    }

    @Test
    void standardizingOnTheTrainingSplitLetsTheSameNetworksLearnTheClasses() throws Exception {
        for (String id : List.of("teacher", "student-from-teacher")) {
            double before = accuracy("none", id);
            double after = accuracy("standardize", id);
            double scaled = accuracy("minmax", id);
            System.out.printf(Locale.ROOT, "%s: raw %.4f, standardize %.4f, minmax %.4f%n", id, before, after, scaled);
            assertTrue(after > 0.85, id + " standardized: " + after);
            assertTrue(after > before + 0.15, id + ": standardized " + after + " vs raw " + before);
            assertTrue(scaled > before + 0.1, id + ": minmax " + scaled + " vs raw " + before);
        }
    }

    @Test
    void theStatisticsComeFromTheTrainingSplitAlone() {
        ExperimentConfig plain = ConfigLoader.load(config, List.of("data.normalize=none"));
        ExperimentData rawData = ExperimentData.load(plain.data(), plain.seed());
        ExperimentConfig std = ConfigLoader.load(config, List.of("data.normalize=standardize"));
        ExperimentData data = ExperimentData.load(std.data(), std.seed());
        float[] scales = data.preprocessing().featureScales();
        float[] shifts = data.preprocessing().featureShifts();
        INDArray train = rawData.train().features();
        for (int f = 0; f < 8; f++) {
            double mean = train.getColumn(f).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).meanNumber().doubleValue();
            double std2 = train.getColumn(f).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).stdNumber().doubleValue();
            // the training split's mean and (population or sample) standard deviation, not the whole file's
            assertEquals(-mean / std2, shifts[f], 2e-3 * Math.max(1, Math.abs(mean / std2)), "feature " + f);
            assertEquals(1 / std2, scales[f], 2e-3 / std2, "feature " + f);
            assertEquals(0, data.train().features().getColumn(f).meanNumber().doubleValue(), 1e-3);
        }
        assertEquals(rawData.test().size(), data.test().size());
    }

    @Test
    void thePackedStudentTakesRawFeaturesAndAnswersAsDl4jOnNormalizedOnes() throws Exception {
        Path zip = dir.resolve("standardize/models/student-from-teacher.zip");
        CliRun export = CliRun.of("export", zip.toString(), "--data", config.toString(), "--set",
                "data.normalize=standardize", "--out", dir.resolve("student.packed").toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(export.out().contains("same class as DL4J on 100.00%"), export.out());
        Model packed = Model.load(dir.resolve("student.packed"));
        assertTrue(packed.preprocessing().perFeature(), packed.preprocessing().toString());
        ExperimentConfig plain = ConfigLoader.load(config, List.of("data.normalize=none"));
        ExperimentData rawData = ExperimentData.load(plain.data(), plain.seed());
        ExperimentConfig std = ConfigLoader.load(config, List.of("data.normalize=standardize"));
        ExperimentData data = ExperimentData.load(std.data(), std.seed());
        INDArray dl4j = ModelReader.sequential(zip).output(data.test().features());
        int correct = 0;
        for (int i = 0; i < data.test().size(); i++) {
            float[] rawRow = rawData.test().features().getRow(i).toFloatVector();
            float[] p = packed.predict(rawRow);
            assertArrayEquals(dl4j.getRow(i).toFloatVector(), p, 1e-4f, "test example " + i);
            correct += packed.classify(rawRow) == data.test().labels()[i] ? 1 : 0;
        }
        assertEquals(accuracy("standardize", "student-from-teacher"), (double) correct / data.test().size(), 1e-9);
        CliRun evaluate = CliRun.of("evaluate", zip.toString(), "--data", config.toString(), "--set",
                "data.normalize=standardize");
        assertTrue(evaluate.out().contains(String.format(Locale.ROOT, "test accuracy %.4f",
                accuracy("standardize", "student-from-teacher"))), evaluate.out());
    }
}
