package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.distill.core.data.Augmentation;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training's {@code augment:} block: read into an {@link Augmentation}, kept by sweep points, and bad
 * blocks fail with one line naming the file, the line (marked {@code # <-}) and the key.
 */
class AugmentConfigTest {

    @TempDir
    Path dir;

    static String config(String input, String augment) {
        return """
                name: small
                data: {dataset: digits, path: '%s'%s}
                models:
                  teacher:
                    layers: [{type: dense, units: 16}, {type: output}]
                  student:
                    layers: [{type: dense, units: 8}, {type: output}]
                    training:
                      epochs: 3
                      augment: %s
                chains:
                  - [teacher, student]
                sweep:
                  points: [{temperature: 1}, {temperature: 2, epochs: 5}]
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz"), input, augment);
    }

    ModelConfig.Declared student(String augment) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, config("", augment));
        return (ModelConfig.Declared) ConfigLoader.load(file).models().get("student");
    }

    @Test
    void anAugmentBlockIsReadWithDefaultsForWhatItLeavesOut() throws IOException {
        assertEquals(new Augmentation(2, true, 0), student("{shift: 2, flip: true}").training().augment());
        assertEquals(new Augmentation(0, false, 0.2), student("{mixup: 0.2}").training().augment());
    }

    @Test
    void aSweepPointKeepsTheModelsAugmentation() throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, config("", "{shift: 1}"));
        ExperimentConfig c = ConfigLoader.load(file);
        ModelConfig.Declared student = (ModelConfig.Declared) c.models().get("student");
        var point = c.sweep().points().get(1);
        assertEquals(5, point.training(student.training()).epochs());
        assertEquals(new Augmentation(1, false, 0), point.training(student.training()).augment());
    }

    void assertError(String input, String augment, String keyPath, String problem) throws IOException {
        LocatedErrors.assertError(dir.resolve("config.yaml"), config(input, augment + "   # <-"), keyPath, problem);
    }

    @Test
    void aNegativeShiftIsRefusedNamingTheKey() throws IOException {
        assertError("", "{shift: -1}", "models.student.training.augment.shift", "non-negative number of pixels");
    }

    @Test
    void aNegativeMixupIsRefusedNamingTheKey() throws IOException {
        assertError("", "{mixup: -0.5}", "models.student.training.augment.mixup", "non-negative alpha");
    }

    @Test
    void anUnknownKeyIsRefusedListingTheKnownOnes() throws IOException {
        assertError("", "{shift: 1, rotate: 10}", "models.student.training.augment.rotate", "shift");
    }

    @Test
    void aFlipOfAFlatInputIsRefused() throws IOException {
        assertError(", input: {features: 64}", "{flip: true}", "models.student.training.augment.flip",
                "needs an image input");
    }
}
