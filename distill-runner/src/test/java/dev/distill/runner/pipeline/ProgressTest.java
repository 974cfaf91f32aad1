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

/**
 * progress.json reads back to the same value, doubles to the bit, a run without validation data (NaN)
 * too; a mutated record is read as written or refused in one line, never read as something else.
 */
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

    @Test
    void everyMutatedRecordIsReadAsWrittenOrRefusedInOneLine(@TempDir Path dir) throws Exception {
        TrainingResult result = new TrainingResult(List.of(new EpochMetrics(1, 0.5, 0.75, 1.5, 3e4)), 1, 0.75, 1.5);
        Progress p = Progress.start("/x/c.yaml", "2026-11-28T10:00:00Z")
                .with(new Progress.Finished("teacher", 42, "models/teacher.zip", 0.93, 53002, result,
                        new dev.distill.core.io.FileDigest(197013, "cd".repeat(32))))
                .withLogits("teacher", 2.5);
        byte[] real = Progress.text(p).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path file = dir.resolve("progress.json");
        java.util.Random random = new java.util.Random(21);
        int tried = 0;
        int same = 0;
        List<String> failures = new java.util.ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            byte[] b = i % 3 == 0 ? java.util.Arrays.copyOf(real, random.nextInt(real.length)) : real.clone();
            if (i % 3 != 0) {
                b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            }
            Files.write(file, b);
            tried++;
            try {
                Progress back = Progress.read(file);
                if (!back.equals(p)) {
                    failures.add(i + ": read as a different record");
                } else {
                    same++;
                }
            } catch (dev.distill.core.DistillException e) {
                if (e.getMessage().lines().count() != 1 || !e.getMessage().startsWith(file.toString())) {
                    failures.add(i + ": " + e.getMessage());
                }
            } catch (RuntimeException e) {
                failures.add(i + ": " + e);
            }
        }
        System.out.printf("fuzz progress record: %d tried, %d refused with one line, %d read as written, %d failures%n",
                tried, tried - same - failures.size(), same, failures.size());
        org.junit.jupiter.api.Assertions.assertTrue(failures.isEmpty(), failures.stream().limit(5).toList().toString());
    }
}
