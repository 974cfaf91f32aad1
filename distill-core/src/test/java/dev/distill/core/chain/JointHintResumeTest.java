package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.DistillException;
import dev.distill.core.io.CheckpointStore;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.CheckpointSink;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A link trained with a joint hint, stopped at a checkpoint (in the middle of an epoch, and at an epoch end) and
 * resumed from it, ends with exactly the student and the regressor of a run that never stopped: the regressor
 * (parameters, Adam's state, its counters) travels in the checkpoint. The guided layers include a dropout layer,
 * so the regressor's own steps draw from ND4J's generator too.
 */
class JointHintResumeTest {

    /** 720 training examples in batches of 32: 23 steps an epoch, the 23rd checkpoint at the end of epoch 1. */
    static final TrainingSpec SPEC = new TrainingSpec(3, 32, dev.distill.core.train.Optimizer.ADAM, 1e-2,
            new dev.distill.core.train.LearningRateSchedule.Constant(), 0);
    static final ModelSpec STUDENT = new ModelSpec(List.of(new LayerSpec.Dense(8, Activation.RELU),
            new LayerSpec.Dropout(0.2), new LayerSpec.Dense(6, Activation.TANH), new LayerSpec.Output(3)));
    /** Student layer 2 (after the dropout) guided by the teacher's hidden layer. */
    static final Plan.Node NODE = new Plan.Node("student-from-teacher", "student", Role.STUDENT, "teacher",
            DistillationSettings.DEFAULTS.withHint(new Hint(2, 0, 0, Hint.Stage.JOINT, 0.5)));
    /** A checkpoint after every step as well as at every epoch end. */
    static final CheckpointPolicy EVERY_STEP = new CheckpointPolicy(1, 2, 1e-9);
    static final long SEED = 7;

    @TempDir
    Path temp;

    static LinkTrainer links() {
        Network teacher = Networks.build(TinyData.mlp(32, 3), DistillationChainTest.INPUT, SPEC.updater(), 0, 3,
                new LossMCXENT());
        new Trainer(new TrainingSpec(2, 32, SPEC.optimizer(), 1e-2, SPEC.schedule(), 0), List.of()).fit(teacher,
                DistillationChainTest.TRAIN.features(), DistillationChainTest.TRAIN.oneHot(),
                DistillationChainTest.VALIDATION, 3, null);
        return new LinkTrainer(DistillationChainTest.INPUT, DistillationChainTest.TRAIN,
                DistillationChainTest.VALIDATION, new TeacherLogitsCache(DistillationChainTest.TRAIN.features(),
                        id -> Teacher.of(teacher), TeacherLogitsCache.Store.NONE));
    }

    static final class Stopped extends RuntimeException {
    }

    /** Keeps every checkpoint in {@code store} and stops the training (by throwing) after the {@code stopAt}th. */
    static CheckpointSink stoppingAt(CheckpointStore store, int stopAt) {
        int[] count = {0};
        return (net, state) -> {
            store.save(net, state);
            if (++count[0] == stopAt) {
                throw new Stopped();
            }
        };
    }

    static CheckpointStore.Restored newest(CheckpointStore store) {
        return store.newestGood(w -> {
            throw new AssertionError(w);
        }).orElseThrow();
    }

    /** The regressor as the run's last checkpoint (the end of its last epoch) holds it. */
    static float[] lastRegressor(CheckpointStore store) {
        CheckpointStore.Restored last = newest(store);
        assertEquals(SPEC.epochs(), last.state().completedEpochs());
        assertTrue(last.state().atEpochBoundary());
        return last.state().companions().get(JointHint.REGRESSOR).params().toFloatVector();
    }

    @Test
    void stoppedMidEpochOrAtAnEpochEndAndResumedEndsWithTheStraightRunsStudentAndRegressorBitForBit() {
        LinkTrainer links = links();
        CheckpointStore straightStore = new CheckpointStore(temp.resolve("straight"), 2);
        Network straight = links.build(NODE, STUDENT, SPEC, SEED);
        TrainingResult expected = links.fit(NODE, STUDENT, straight,
                new Trainer(SPEC, List.of()).withCheckpoints(EVERY_STEP, straightStore), SEED, null);
        float[] straightRegressor = lastRegressor(straightStore);

        // 30: 7 steps into epoch 2; 46: the end of epoch 2
        for (int stopAt : new int[] {30, 46}) {
            CheckpointStore store = new CheckpointStore(temp.resolve("stop" + stopAt), 2);
            assertThrows(Stopped.class, () -> links.fit(NODE, STUDENT, links.build(NODE, STUDENT, SPEC, SEED),
                    new Trainer(SPEC, List.of()).withCheckpoints(EVERY_STEP, stoppingAt(store, stopAt)), SEED, null));
            CheckpointStore.Restored restored = newest(store);
            assertEquals(stopAt == 46, restored.state().atEpochBoundary(), "checkpoint " + stopAt);
            assertEquals(List.of(JointHint.REGRESSOR), List.copyOf(restored.state().companions().keySet()));

            Network resumed = links.build(NODE, STUDENT, SPEC, SEED);
            restored.copyInto(resumed);
            TrainingResult result = links.fit(NODE, STUDENT, resumed,
                    new Trainer(SPEC, List.of()).withCheckpoints(EVERY_STEP, store), SEED, restored.state());

            String where = "stopped at checkpoint " + stopAt + " (epoch " + restored.state().completedEpochs()
                    + ", example " + restored.state().nextExample() + ")";
            assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f,
                    where + ": the student");
            assertArrayEquals(straightRegressor, lastRegressor(store), 0f, where + ": the regressor");
            assertEquals(expected.bestEpoch(), result.bestEpoch(), where);
            for (int e = 0; e < SPEC.epochs(); e++) {
                assertEquals(expected.history().get(e).trainLoss(), result.history().get(e).trainLoss(), 0.0,
                        where + ", epoch " + (e + 1));
            }
        }
    }

    @Test
    void aCheckpointWithoutTheRegressorIsRefusedInOneLineNotResumedWithAFreshOne() {
        LinkTrainer links = links();
        CheckpointStore store = new CheckpointStore(temp.resolve("old"), 2);
        assertThrows(Stopped.class, () -> links.fit(NODE, STUDENT, links.build(NODE, STUDENT, SPEC, SEED),
                new Trainer(SPEC, List.of()).withCheckpoints(EVERY_STEP, stoppingAt(store, 5)), SEED, null));
        TrainingState s = newest(store).state();
        // as a checkpoint written before the regressor was kept reads (format 1: no companions)
        TrainingState old = new TrainingState(s.examples(), s.completedEpochs(), s.nextExample(), s.lossSum(),
                s.epochSeconds(), s.history(), s.bestEpoch(), s.bestAccuracy(), s.bestParams(), s.seconds(),
                s.rngRoot(), s.rngNode());
        Network resumed = links.build(NODE, STUDENT, SPEC, SEED);
        newest(store).copyInto(resumed);

        DistillException e = assertThrows(DistillException.class, () -> links.fit(NODE, STUDENT, resumed,
                new Trainer(SPEC, List.of()), SEED, old));
        assertEquals("the checkpoint to resume holds no joint-hint-regressor (checkpoints written before it was kept "
                + "have none), so this training cannot continue where it stopped; remove its checkpoints to train it "
                + "from the start", e.getMessage());
    }
}
