package dev.distill.core.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.io.CheckpointStore;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.EpochMetrics;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TrainingListener;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deep mutual learning's group loop: checkpointed at epoch ends and continued bit for bit. */
class MutualLearningTest {

    static final Splits.Pair PARTS = Splits.holdOut(TinyData.blobs(600, 6, 3, 11), 0.2, 3);
    static final LabeledData TRAIN = PARTS.first();
    static final LabeledData VALIDATION = PARTS.second();
    static final TrainingSpec TRAINING = new TrainingSpec(4, 32, Optimizer.ADAM, 1e-2,
            new LearningRateSchedule.Constant(), 0);
    static final long SEED = 7;

    /** The group of two students (different widths) built as the pipeline builds them: the link's kd loss. */
    static List<Network> group() {
        List<Network> nets = new ArrayList<>();
        int[] widths = {8, 5};
        for (int i = 0; i < widths.length; i++) {
            nets.add(Networks.build(TinyData.mlp(widths[i], 3), TinyData.flat(6), TRAINING.updater(),
                    TRAINING.weightDecay(), MutualLearning.seedOf(SEED, i), new DistillationLoss(1, 1, 1)));
        }
        return nets;
    }

    static List<List<TrainingListener>> listeners(TrainingListener first) {
        return List.of(List.of(first), List.of());
    }

    static final TrainingListener QUIET = new TrainingListener() {
    };

    /** Thrown by a listener: the process "dies" once the group has finished {@link #AFTER} epochs. */
    static final class Interrupted extends RuntimeException {
    }

    static final int AFTER = 2;

    @Test
    void theGroupTrainsOnTheFasterStepsAndHasDl4jsLayerObjectsBackAfterwards() {
        List<Network> nets = group();
        List<Class<?>> seenWhileTraining = new ArrayList<>();
        TrainingListener looks = new TrainingListener() {
            @Override
            public void batchDone(long examplesDone, double loss) {
                seenWhileTraining.add(firstLayer(nets.get(0)).getClass());
            }
        };
        MutualLearning.fit(nets, TRAINING, 1, listeners(looks), TRAIN, VALIDATION, SEED);
        assertTrue(!seenWhileTraining.isEmpty() && seenWhileTraining.stream().allMatch(
                c -> c == dev.distill.models.network.LeanDenseBackprop.class), seenWhileTraining.toString());
        for (Network net : nets) {
            assertEquals(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, firstLayer(net).getClass(),
                    "DL4J's own layer object after the group's training");
        }
    }

    private static org.deeplearning4j.nn.api.Layer firstLayer(Network net) {
        return ((Network.Sequential) net).net().getLayers()[0];
    }

    @Test
    void anInterruptedGroupContinuesFromItsEpochEndCheckpointsToTheUninterruptedResult(@TempDir Path dir) {
        List<Network> straight = group();
        List<TrainingResult> expected = MutualLearning.fit(straight, TRAINING, 1, listeners(QUIET), TRAIN, VALIDATION,
                SEED);

        List<CheckpointStore> stores = List.of(new CheckpointStore(dir.resolve("a"), 2),
                new CheckpointStore(dir.resolve("b"), 2));
        CheckpointPolicy everyEpoch = new CheckpointPolicy(1, 2, 0);
        TrainingListener dies = new TrainingListener() {
            @Override
            public void epochDone(EpochMetrics metrics, boolean best) {
                if (metrics.epoch() == AFTER) {
                    throw new Interrupted();
                }
            }
        };
        assertThrows(Interrupted.class, () -> MutualLearning.fit(group(), TRAINING, 1, listeners(dies), TRAIN,
                VALIDATION, SEED, new MutualLearning.Checkpoints(everyEpoch, stores, null)));

        // a new process: fresh networks, each restored from its student's checkpoint of the same epoch end
        List<Network> resumedNets = group();
        List<TrainingState> states = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            CheckpointStore.Restored r = stores.get(s).goodAtEpochEnd(AFTER, line -> {
            }).orElseThrow();
            r.copyInto(resumedNets.get(s));
            states.add(r.state());
            assertEquals(AFTER, r.state().completedEpochs());
        }
        List<TrainingResult> continued = MutualLearning.fit(resumedNets, TRAINING, 1, listeners(QUIET), TRAIN,
                VALIDATION, SEED, new MutualLearning.Checkpoints(everyEpoch, stores, states));

        for (int s = 0; s < 2; s++) {
            assertEquals(straight.get(s).params(), resumedNets.get(s).params(), "student " + s + "'s parameters");
            assertEquals(expected.get(s).bestEpoch(), continued.get(s).bestEpoch());
            assertEquals(expected.get(s).history().size(), continued.get(s).history().size());
            for (int e = 0; e < TRAINING.epochs(); e++) {
                assertEquals(expected.get(s).history().get(e).trainLoss(), continued.get(s).history().get(e).trainLoss(),
                        "student " + s + " epoch " + (e + 1) + "'s loss");
                assertEquals(expected.get(s).history().get(e).validationAccuracy(),
                        continued.get(s).history().get(e).validationAccuracy());
            }
        }
        assertTrue(stores.get(0).goodAtEpochEnd(TRAINING.epochs(), line -> {
        }).isPresent(), "the last epoch is checkpointed too");
    }

    @Test
    void studentsResumedFromDifferentEpochsAreRefused(@TempDir Path dir) {
        List<CheckpointStore> stores = List.of(new CheckpointStore(dir.resolve("a"), 3),
                new CheckpointStore(dir.resolve("b"), 3));
        MutualLearning.fit(group(), new TrainingSpec(2, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(),
                0), 1, listeners(QUIET), TRAIN, VALIDATION, SEED,
                new MutualLearning.Checkpoints(new CheckpointPolicy(1, 3, 0), stores, null));
        TrainingState one = stores.get(0).goodAtEpochEnd(1, line -> {
        }).orElseThrow().state();
        TrainingState two = stores.get(1).goodAtEpochEnd(2, line -> {
        }).orElseThrow().state();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MutualLearning.fit(group(),
                TRAINING, 1, listeners(QUIET), TRAIN, VALIDATION, SEED,
                new MutualLearning.Checkpoints(new CheckpointPolicy(1, 3, 0), stores, List.of(one, two))));
        assertTrue(e.getMessage().contains("[1, 2]"), e.getMessage());
    }
}
