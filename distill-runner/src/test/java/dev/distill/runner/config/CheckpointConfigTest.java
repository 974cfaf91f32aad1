package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.train.CheckpointPolicy;
import dev.distill.runner.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code checkpoints:} block: defaults, values, and located errors. */
class CheckpointConfigTest {

    static ExperimentConfig digits(String... overrides) {
        return ConfigLoader.load(CliRun.repoFile("configs/digits-takd.yaml"), List.of(overrides));
    }

    @Test
    void defaultsAreEveryEpochKeepTwoAndTenMinutes() {
        assertEquals(new CheckpointPolicy(1, 2, 10), digits().checkpoints());
        assertEquals(CheckpointPolicy.DEFAULT, digits().checkpoints());
    }

    @Test
    void valuesAreRead() {
        assertEquals(new CheckpointPolicy(3, 5, 0.5), digits("checkpoints={every_epochs: 3, keep: 5, every_minutes: 0.5}")
                .checkpoints());
        assertEquals(new CheckpointPolicy(1, 2, 0), digits("checkpoints.every_minutes=0").checkpoints());
    }

    @Test
    void badValuesAndUnknownKeysAreLocated(@TempDir Path dir) throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> digits("checkpoints.keep=0"));
        assertTrue(e.getMessage().startsWith("--set checkpoints.keep=0: checkpoints: keep must be a positive"),
                e.getMessage());
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, Files.readString(CliRun.repoFile("configs/digits-takd.yaml"))
                + "checkpoints:\n  every_epoch: 2\n");
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        long line = Files.readAllLines(file).size();
        assertTrue(e.getMessage().startsWith(file + ":" + line + ": checkpoints.every_epoch: unknown key; known keys "
                + "here: every_epochs"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> digits("checkpoints.every_minutes=-1"));
        assertTrue(e.getMessage().contains("every_minutes must be 0 (epoch ends only) or positive"), e.getMessage());
    }
}
