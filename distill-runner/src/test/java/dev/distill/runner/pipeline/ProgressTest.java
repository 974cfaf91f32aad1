package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.TrainingResult;
import dev.distill.runner.report.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** progress.json reads back to the same value, doubles to the bit, a run without validation data (NaN) too. */
class ProgressTest {

    @Test
    void roundTripsThroughJson(@TempDir Path dir) throws Exception {
        TrainingResult result = new TrainingResult(List.of(new EpochMetrics(1, 0.1 + 0.2, Double.NaN, 1.5, 3e4),
                new EpochMetrics(2, 1.0 / 3, Double.NaN, 1.25, 2.5e4)), 2, Double.NaN, 2.75);
        Progress p = Progress.start("/x/c.yaml", "2026-11-28T10:00:00Z")
                .with(new Progress.Finished("student", 1, "models/student-seed1.zip", 0.9123456789012345, 1210, result,
                        new dev.distill.core.io.FileDigest(1234, "ab".repeat(32))))
                .withLogits("teacher", 46.0).withFailure("disk full");
        Path file = dir.resolve("progress.json");
        Files.writeString(file, Progress.text(p));
        Progress back = Progress.read(file);
        assertEquals(p, back);
        // a record written before the sha256 line existed still reads
        Files.writeString(file, Json.pretty(p));
        assertEquals(p, Progress.read(file));
        assertEquals(0.1 + 0.2, back.finished("student", 1).result().history().get(0).trainLoss(), 0.0);
        assertNull(back.finished("student", 0));
    }
}
