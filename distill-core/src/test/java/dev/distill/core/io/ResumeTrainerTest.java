package dev.distill.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.Augmentation;
import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TeacherLogits;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingResult;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped at a checkpoint and continued from it ends with the same parameters, bit for bit, as
 * one that never stopped, including dropout (ND4J's generator), batch norm's running statistics, Adam's
 * state, a step schedule (the epoch counter) and a checkpoint in the middle of an epoch.
 */
class ResumeTrainerTest {

    static final Splits.Pair PARTS = Splits.holdOut(TinyData.blobs(600, 6, 3, 4), 0.2, 2);
    static final LabeledData TRAIN = PARTS.first();
    static final LabeledData VALIDATION = PARTS.second();
    static final ModelSpec MODEL = new ModelSpec(List.of(new LayerSpec.Dense(24, Activation.RELU),
            new LayerSpec.BatchNorm(), new LayerSpec.Dropout(0.3), new LayerSpec.Dense(12, Activation.TANH),
            new LayerSpec.Output(3)));
    static final TrainingSpec SPEC = new TrainingSpec(6, 32, Optimizer.ADAM, 5e-3,
            new LearningRateSchedule.Step(0.5, 2), 1e-4);
    static final long SEED = 11;

    @TempDir
    Path temp;

    static MultiLayerNetwork fresh() {
        return NetworkFactory.build(MODEL, InputShape.flat(6), SPEC.updater(), SPEC.weightDecay(), SEED);
    }

    /** Records every checkpoint the trainer hands over, and stops the run (by throwing) at the chosen one. */
    static final class StopAt implements dev.distill.core.train.CheckpointSink {
        final CheckpointStore store;
        final int stopAt;
        final List<TrainingState> seen = new ArrayList<>();

        StopAt(CheckpointStore store, int stopAt) {
            this.store = store;
            this.stopAt = stopAt;
        }

        @Override
        public void save(dev.distill.models.network.Network net, TrainingState state) {
            store.save(net, state);
            seen.add(state);
            if (seen.size() == stopAt) {
                throw new Stopped();
            }
        }
    }

    static final class Stopped extends RuntimeException {
    }

    @Test
    void stoppedAtAnEpochEndOrMidEpochAndResumedGivesTheSameParametersBitForBit() {
        MultiLayerNetwork straight = fresh();
        TrainingResult expected = new Trainer(SPEC, List.of())
                .fit(straight, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED);

        // every_minutes tiny: a checkpoint at every batch boundary as well as at every epoch end
        CheckpointPolicy everyBatch = new CheckpointPolicy(1, 3, 1e-9);
        for (int stopAt : new int[] {2, 17, 32, 50}) {
            CheckpointStore store = new CheckpointStore(temp.resolve("stop" + stopAt), 3);
            StopAt sink = new StopAt(store, stopAt);
            try {
                new Trainer(SPEC, List.of()).withCheckpoints(everyBatch, sink)
                        .fit(fresh(), TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED);
            } catch (Stopped expectedStop) {
                // the "crash"
            }
            TrainingState last = sink.seen.get(sink.seen.size() - 1);
            CheckpointStore.Restored restored = store.newestGood(w -> {
                throw new AssertionError(w);
            }).orElseThrow();
            assertEquals(last.completedEpochs(), restored.state().completedEpochs());
            assertEquals(last.nextExample(), restored.state().nextExample());
            MultiLayerNetwork resumed = fresh();
            restored.copyInto(resumed);
            TrainingResult result = new Trainer(SPEC, List.of()).withCheckpoints(everyBatch, store)
                    .fit(resumed, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED, restored.state());
            String where = "stopped at checkpoint " + stopAt + " (epoch " + last.completedEpochs() + ", example "
                    + last.nextExample() + ")";
            assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f, where);
            assertEquals(expected.bestEpoch(), result.bestEpoch(), where);
            assertEquals(expected.bestValidationAccuracy(), result.bestValidationAccuracy(), 0.0, where);
            for (int e = 0; e < SPEC.epochs(); e++) {
                assertEquals(expected.history().get(e).trainLoss(), result.history().get(e).trainLoss(), 0.0,
                        where + ", epoch " + (e + 1));
            }
        }
    }

    @Test
    void augmentedDistillationStoppedMidEpochAndResumedSeesTheSameViewsAndEndsBitForBit() {
        InputShape image = InputShape.image(4, 4, 1);
        Splits.Pair parts = Splits.holdOut(TinyData.blobs(300, image.size(), 3, 6), 0.2, 2);
        TrainingSpec spec = new TrainingSpec(3, 32, Optimizer.ADAM, 5e-3, new LearningRateSchedule.Cosine(0), 0,
                new Augmentation(1, true, 0.3));
        MultiLayerNetwork teacherNet = NetworkFactory.build(TinyData.mlp(8, 3), InputShape.flat(image.size()),
                spec.updater(), 0, 3);
        TeacherLogits.Live teacher = TeacherLogits.live(Network.of(teacherNet));
        java.util.function.Supplier<MultiLayerNetwork> student = () -> NetworkFactory.build(TinyData.mlp(8, 3), image,
                spec.updater(), 0, SEED, new DistillationLoss(1, 0.5, 0.5));
        LabeledData train = parts.first();
        MultiLayerNetwork straight = student.get();
        TrainingResult expected = new Trainer(spec, List.of()).withAugmentation(image, teacher)
                .fit(straight, train.features(), train.oneHot(), parts.second(), SEED);

        CheckpointPolicy everyBatch = new CheckpointPolicy(1, 3, 1e-9);
        CheckpointStore store = new CheckpointStore(temp.resolve("augmented"), 3);
        // 240 examples in batches of 32: 8 batches an epoch; the 11th checkpoint is in the middle of epoch 2
        StopAt sink = new StopAt(store, 11);
        try {
            new Trainer(spec, List.of()).withCheckpoints(everyBatch, sink).withAugmentation(image, teacher)
                    .fit(student.get(), train.features(), train.oneHot(), parts.second(), SEED);
        } catch (Stopped expectedStop) {
            // the "crash"
        }
        CheckpointStore.Restored restored = store.newestGood(w -> {
            throw new AssertionError(w);
        }).orElseThrow();
        assertTrue(!restored.state().atEpochBoundary(), "stopped in the middle of an epoch");
        MultiLayerNetwork resumed = student.get();
        restored.copyInto(resumed);
        TrainingResult result = new Trainer(spec, List.of()).withAugmentation(image, teacher)
                .fit(resumed, train.features(), train.oneHot(), parts.second(), SEED, restored.state());
        assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f);
        for (int e = 0; e < spec.epochs(); e++) {
            assertEquals(expected.history().get(e).trainLoss(), result.history().get(e).trainLoss(), 0.0,
                    "epoch " + (e + 1));
        }
    }

    @Test
    void theSchedulePositionAndCountersComeBack() {
        CheckpointStore store = new CheckpointStore(temp.resolve("counters"), 2);
        MultiLayerNetwork net = fresh();
        new Trainer(new TrainingSpec(3, 32, Optimizer.ADAM, 5e-3, new LearningRateSchedule.Step(0.5, 2), 0),
                List.of()).withCheckpoints(new CheckpointPolicy(1, 2, 0), store)
                .fit(net, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED);
        CheckpointStore.Restored r = store.newestGood(w -> {
            throw new AssertionError(w);
        }).orElseThrow();
        assertEquals(3, r.net().getEpochCount());
        // 480 examples in batches of 32: 15 iterations an epoch
        assertEquals(45, r.net().getIterationCount());
        assertTrue(r.state().atEpochBoundary());
        assertEquals(3, r.state().history().size());
        // keep 2: only the last two epochs' checkpoints are left
        assertEquals(2, store.dir().toFile().list((d, n) -> n.startsWith("ckpt-")).length);
    }
}
