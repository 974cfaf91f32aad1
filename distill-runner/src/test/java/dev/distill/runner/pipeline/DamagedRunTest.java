package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.cli.DistillCli;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run cut short whose finished files were damaged afterwards: a finished model truncated to half
 * its size, garbage in {@code checkpoints/progress.json}, both copies of the progress record gone bad,
 * a run made before digests were recorded, and a disk that fills up during the resume. {@code status}
 * says what is damaged; {@code resume} trains the damaged model again (the same model, bit for bit),
 * reads the backup of the record, or refuses in one line with the command to run; a second command
 * never meets the same error.
 */
class DamagedRunTest {

    @TempDir
    static Path temp;

    /** A finished tiny digits run (teacher and one distilled student, one seed): copied, never changed. */
    static Path finished;

    @BeforeAll
    static void runTinyDigits() {
        finished = temp.resolve("finished");
        CliRun r = CliRun.of("run", CliRun.repoFile("configs/digits-takd.yaml").toString(), "--out", finished.toString(),
                "--set", "chains=[[teacher, student]]", "--set", "baseline=false", "--set", "seeds=[0]",
                "--set", "models.teacher.training.epochs=2", "--set", "models.student.training.epochs=2");
        assertEquals(0, r.code(), r.err());
    }

    /** A copy of the finished run, cut short: no summary, so status and resume treat it as interrupted. */
    static Path cutShort(String name) throws IOException {
        Path copy = CliRun.copyTree(finished, temp.resolve(name));
        Files.delete(copy.resolve(RunDirectory.SUMMARY));
        return copy;
    }

    static void truncateToHalf(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
    }

    static float[] params(Path zip) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false).params().toFloatVector();
    }

    /** Status and resume on a run whose finished {@code model} was truncated to half its size. */
    void truncatedModelIsReportedAndTrainedAgain(String model, String id) throws IOException {
        Path run = cutShort("truncated-" + id);
        truncateToHalf(run.resolve("models/" + model));
        CliRun status = CliRun.of("status", run.toString());
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("DAMAGED: models/" + model + " truncated or damaged")
                && status.out().contains("(resume trains it again)"), status.out());
        assertTrue(status.out().contains("resume with: distill resume " + run), status.out());

        CliRun resume = CliRun.of("resume", run.toString());
        assertEquals(0, resume.code(), resume.err() + resume.out());
        assertTrue(resume.out().contains("warning: " + run.resolve("models/" + model) + ": truncated or damaged")
                && resume.out().contains(id + " seed "), resume.out());
        assertTrue(Files.isRegularFile(run.resolve(RunDirectory.SUMMARY)));
        assertTrue(java.util.Arrays.equals(params(finished.resolve("models/" + model)), params(run.resolve("models/"
                + model))), "trained again to the same parameters");
        CliRun again = CliRun.of("status", run.toString());
        assertTrue(again.out().startsWith(run + ": done") && !again.out().contains("DAMAGED"), again.out());
    }

    @Test
    void aDamagedModelOfAFinishedRunIsReportedWithTheCommandThatMakesItAgain() throws IOException {
        Path run = CliRun.copyTree(finished, temp.resolve("finished-damaged"));
        CliRun pristine = CliRun.of("status", run.toString());
        assertFalse(pristine.out().contains("DAMAGED"), pristine.out());
        truncateToHalf(run.resolve("models/student-from-teacher.zip"));
        CliRun status = CliRun.of("status", run.toString());
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("DAMAGED: models/student-from-teacher.zip truncated or damaged"), status.out());
        String command = "rm " + run.resolve(RunDirectory.SUMMARY) + " && distill resume " + run;
        assertTrue(status.out().contains("to make the damaged files again: " + command), status.out());
        // doing what it says
        Files.delete(run.resolve(RunDirectory.SUMMARY));
        CliRun resume = CliRun.of("resume", run.toString());
        assertEquals(0, resume.code(), resume.err() + resume.out());
        CliRun after = CliRun.of("status", run.toString());
        assertTrue(after.out().startsWith(run + ": done") && !after.out().contains("DAMAGED"), after.out());
        assertTrue(java.util.Arrays.equals(params(finished.resolve("models/student-from-teacher.zip")),
                params(run.resolve("models/student-from-teacher.zip"))), "made again, the same parameters");
    }

    @Test
    void aTruncatedFinishedTeacherIsReportedByStatusAndTrainedAgainByResume() throws IOException {
        truncatedModelIsReportedAndTrainedAgain("teacher.zip", "teacher");
    }

    @Test
    void aTruncatedFinishedStudentIsReportedByStatusAndTrainedAgainByResume() throws IOException {
        truncatedModelIsReportedAndTrainedAgain("student-from-teacher.zip", "student-from-teacher");
    }

    @Test
    void garbageInProgressJsonIsReportedAndItsBackupUsed() throws IOException {
        Path run = cutShort("garbage-progress");
        Path progress = run.resolve("checkpoints/progress.json");
        Files.write(progress, "{\"config_file\": garbage \u0000\u0001 not json".getBytes(StandardCharsets.UTF_8));
        CliRun status = CliRun.of("status", run.toString());
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("damaged: " + progress + ": not a readable progress record")
                && status.out().contains("using its backup checkpoints/progress.backup.json"), status.out());
        assertTrue(status.out().contains("teacher") && status.out().contains("done (test accuracy"), status.out());

        CliRun resume = CliRun.of("resume", run.toString());
        assertEquals(0, resume.code(), resume.err() + resume.out());
        assertTrue(resume.out().contains("2 training run(s) finished earlier"), resume.out());
        assertTrue(Files.isRegularFile(run.resolve(RunDirectory.SUMMARY)));
        // the resume wrote the record again: it reads without its backup
        RunDirectory dir = RunDirectory.open(run);
        Files.delete(dir.progressBackup());
        assertEquals(2, dir.progress().finished().size());
    }

    @Test
    void anEditedNumberInProgressJsonIsToldFromTheRecordWritten() throws IOException {
        Path run = cutShort("edited-progress");
        Path progress = run.resolve("checkpoints/progress.json");
        String text = Files.readString(progress);
        // still valid JSON, but not what was written: the sha256 line says so
        Files.writeString(progress, text.replaceFirst("\"test_accuracy\" : 0\\.", "\"test_accuracy\" : 1."));
        CliRun status = CliRun.of("status", run.toString());
        assertTrue(status.out().contains("damaged: " + progress + ": damaged: its text is not the one its sha256 "
                + "line vouches for"), status.out());
    }

    @Test
    void bothCopiesOfTheProgressRecordDamagedIsRefusedWithTheCommandToRun() throws IOException {
        Path run = cutShort("both-damaged");
        Files.writeString(run.resolve("checkpoints/progress.json"), "garbage");
        Files.write(run.resolve("checkpoints/progress.backup.json"), new byte[0]);
        for (String command : List.of("status", "resume", "resume")) {
            CliRun r = command.equals("status") ? CliRun.of("status", run.toString())
                    : CliRun.of("resume", run.toString(), "--force");
            assertEquals(DistillCli.BAD_INPUT, r.code(), r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("progress.json: not a readable progress record")
                    && r.err().contains("and its backup checkpoints/progress.backup.json")
                    && r.err().contains("start it again: distill run " + run.resolve("config.yaml") + " --out NEW_DIR"),
                    r.err());
        }
    }

    @Test
    void aRunMadeBeforeDigestsWereRecordedStillHasItsTruncatedModelFound() throws IOException {
        Path run = cutShort("no-digests");
        RunDirectory dir = RunDirectory.open(run);
        Progress p = dir.progress();
        List<Progress.Finished> old = new ArrayList<>();
        p.finished().forEach(f -> old.add(new Progress.Finished(f.id(), f.seed(), f.file(), f.testAccuracy(), f.params(),
                f.result(), null)));
        dir.write(new Progress(p.configFile(), p.started(), old, p.logitsSeconds(), null));
        truncateToHalf(run.resolve("models/teacher.zip"));
        CliRun status = CliRun.of("status", run.toString());
        assertTrue(status.out().contains("DAMAGED: models/teacher.zip damaged model zip"), status.out());
    }

    @Test
    void aDiskThatFillsDuringResumeEndsWithExit3AndStatusSaysWhy() throws IOException {
        Path run = cutShort("disk-full");
        RunDirectory dir = RunDirectory.open(run);
        // interrupted before the student finished: the resume trains it, and its metrics go to a full device
        dir.write(dir.progress().without(f -> f.id().equals("student-from-teacher")));
        Path metrics = run.resolve(RunDirectory.METRICS);
        Files.delete(metrics);
        Files.createSymbolicLink(metrics, Path.of("/dev/full"));
        CliRun resume = CliRun.of("resume", run.toString());
        assertEquals(DistillCli.ENVIRONMENT, resume.code(), resume.out() + resume.err());
        assertEquals(1, resume.err().strip().lines().count(), resume.err());
        assertTrue(resume.err().startsWith("error: " + metrics + ": cannot write: the disk is full (No space left on "
                + "device)"), resume.err());
        assertFalse(resume.err().contains("Exception"), resume.err());
        CliRun status = CliRun.of("status", run.toString());
        assertTrue(status.out().startsWith(run + ": failed: " + metrics + ": cannot write: the disk is full"),
                status.out());
        Files.delete(metrics);
    }
}
