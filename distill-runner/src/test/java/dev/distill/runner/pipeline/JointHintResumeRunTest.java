package dev.distill.runner.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.runner.testing.CliRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A joint hint's training on the shipped digits data, killed with SIGKILL in a child JVM during the student's
 * second epoch (a checkpoint after every step) and finished by {@code distill resume}, ships the same student bit
 * for bit as a run never stopped: the regressor the hint trains beside the student comes back from the checkpoint.
 */
class JointHintResumeRunTest {

    @TempDir
    static Path temp;

    /** The shipped CNN teacher's second conv layer, pooled, hints the MLP student's hidden layer at every step. */
    static final List<String> JOINT = List.of(
            "--set", "chains=[{models: [teacher, student], distillation: {hint: {student_layer: 0, teacher_layer: 2, "
                    + "stage: joint, weight: 0.5}}}]",
            "--set", "baseline=false",
            "--set", "seeds=[0]",
            "--set", "models.teacher.training.epochs=2",
            "--set", "checkpoints.every_minutes=0.000001");

    @Test
    void aJointHintRunKilledMidTrainingResumesToTheStraightRunsStudent() throws Exception {
        Path straight = temp.resolve("straight");
        List<String> all = new ArrayList<>(List.of(ResumeTest.args("run", DigitsRunTest.config().toString(), "--out",
                straight.toString())));
        all.addAll(JOINT);
        CliRun reference = CliRun.of(all.toArray(String[]::new));
        assertEquals(0, reference.code(), reference.err());

        Path run = temp.resolve("killed");
        ResumeTest.killChild(run, JOINT, line -> line.matches("\\s*student-from-teacher\\s+epoch\\s+1/3.*"),
                () -> false);
        CliRun resumed = ResumeTest.resume(run);
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertTrue(resumed.out().matches("(?s).*student-from-teacher: resuming from checkpoints/student-from-teacher-"
                + "seed0/ckpt-\\d+\\.zip \\([12] of 3 epochs done.*"), resumed.out());
        ResumeTest.assertSameResults(straight, run);
    }
}
