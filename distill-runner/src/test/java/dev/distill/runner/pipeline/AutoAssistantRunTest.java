package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.config.ConfigLoader;
import dev.distill.runner.config.ExperimentConfig;
import dev.distill.runner.report.RunSummary;
import dev.distill.runner.report.RunSummary.AssistantCandidate;
import dev.distill.runner.report.RunSummary.AssistantEntry;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code assistant: auto} through the real pipeline on digits: every candidate is distilled from the teacher and
 * teaches the student over the seeds; the candidate whose student has the best mean validation accuracy becomes
 * the assistant, candidates are never tested, and an interrupted choice resumes without training its finished
 * candidates again.
 */
class AutoAssistantRunTest {

    @TempDir
    Path dir;

    static final String CONFIG = """
            name: auto-test
            seed: 42
            data: {dataset: digits, path: '%s', batch_size: 32}
            models:
              teacher:
                layers: [{type: dense, units: 64, activation: relu}, {type: output}]
                training: {epochs: 3}
              assistant:
                auto: {count: 2}
                training: {epochs: 2}
              student:
                layers: [{type: dense, units: 8, activation: relu}, {type: output}]
                training: {epochs: 2}
            chains:
              - [teacher, assistant, student]
            baseline: false
            seeds: [0, 1]
            """;

    @Test
    void everyCandidateTeachesTheStudentTheBestValidatedIsKeptAndAnInterruptedChoiceSkipsFinishedCandidates()
            throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, CONFIG.formatted(CliRun.repoFile("datasets/digits.csv.gz")));
        ExperimentConfig c = ConfigLoader.load(file);
        ExperimentData data = ExperimentData.load(c.data(), c.seed());
        RunDirectory runDir = RunDirectory.create(c.name(), dir.resolve("run"));
        SweepRunTest.Ran firstRun = SweepRunTest.run(c, data, runDir);
        RunSummary first = firstRun.summary();

        AssistantEntry choice = first.assistants().get(0);
        assertEquals("assistant-from-teacher", choice.id());
        assertEquals("student-from-assistant", choice.student());
        assertEquals(List.of("w16", "w32"), choice.candidates().stream().map(AssistantCandidate::label).toList());
        Progress progress = runDir.progress();
        AssistantCandidate chosen = null;
        for (AssistantCandidate candidate : choice.candidates()) {
            Progress.Finished assistant = progress.finished("assistant-from-teacher@" + candidate.label(), 42);
            assertNotNull(assistant, "every candidate trained");
            assertNull(assistant.testAccuracy(), "a candidate is never tested");
            assertEquals(assistant.result().bestValidationAccuracy(), candidate.assistantValidationAccuracy());
            for (int i = 0; i < 2; i++) {
                Progress.Finished student = progress.finished("student-from-assistant@" + candidate.label(), i);
                assertNull(student.testAccuracy(), "nor is the student a candidate taught");
                assertEquals(student.result().bestValidationAccuracy(),
                        candidate.studentValidationAccuracyPerSeed().get(i), "the recorded validation figures");
            }
            if (chosen == null || mean(candidate) > mean(chosen)) {
                chosen = candidate;
            }
        }
        assertEquals(chosen.label(), choice.chosen(), "the best mean validation of the student, the earlier on a tie");
        assertTrue(chosen.chosen());
        assertEquals(1, choice.candidates().stream().filter(AssistantCandidate::chosen).count());
        // the chosen pair is the chain's: tested only now, under the nodes' own ids
        RunSummary.ModelEntry assistant = entry(first, "assistant-from-teacher");
        assertEquals(chosen.params(), assistant.params());
        assertNotNull(assistant.testAccuracy());
        RunSummary.ModelEntry student = entry(first, "student-from-assistant");
        assertEquals(chosen.studentValidationAccuracyPerSeed().get(0), student.training().validationAccuracy(), 1e-12);
        assertEquals(2, student.seeds().testAccuracyPerSeed().size());
        try (var files = Files.list(runDir.root().resolve("predictions"))) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().contains("@")), "no candidate was predicted");
        }
        assertTrue(firstRun.console().contains("assistant-from-teacher: chose " + chosen.label()), firstRun.console());
        assertTrue(firstRun.console().contains("automatic assistant, chose " + chosen.label()), "the run table says so");
        assertTrue(Files.readString(runDir.root().resolve("report.md")).contains("## Automatic assistants"));

        // interrupted after the first candidate and its two students: what progress.json would list then
        List<Progress.Finished> kept = progress.finished().subList(0, 4);
        assertEquals("student-from-assistant@w16", kept.get(3).id());
        runDir.write(new Progress(progress.configFile(), progress.started(), kept, progress.logitsSeconds(), null));
        Files.delete(runDir.root().resolve(RunDirectory.SUMMARY));
        Path finished = runDir.root().resolve(kept.get(1).file());
        FileTime before = Files.getLastModifiedTime(finished);

        SweepRunTest.Ran resumed = SweepRunTest.run(c, data, RunDirectory.open(runDir.root()));
        assertTrue(resumed.console().contains("assistant-from-teacher@w16: finished earlier"), resumed.console());
        assertTrue(resumed.console().contains("student-from-assistant@w16 seed 1: finished earlier"));
        assertFalse(resumed.console().contains("assistant-from-teacher@w16 epoch"), "not trained again");
        assertTrue(resumed.console().contains("student-from-assistant@w32 seed 0 epoch"), "the rest is trained");
        assertEquals(before, Files.getLastModifiedTime(finished));
        AssistantEntry again = resumed.summary().assistants().get(0);
        assertEquals(choice.chosen(), again.chosen());
        for (int i = 0; i < 2; i++) {
            assertEquals(choice.candidates().get(i).studentValidationAccuracyPerSeed(),
                    again.candidates().get(i).studentValidationAccuracyPerSeed(), "the same figures as uninterrupted");
        }
    }

    private static double mean(AssistantCandidate c) {
        return dev.distill.core.chain.ValidationChoice.mean(c.studentValidationAccuracyPerSeed().stream()
                .mapToDouble(Double::doubleValue).toArray());
    }

    private static RunSummary.ModelEntry entry(RunSummary s, String id) {
        return s.models().stream().filter(m -> m.id().equals(id)).findFirst().orElseThrow();
    }
}
