package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.io.CheckpointStore;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.models.network.ComputeThreads;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training whose batches are split in parts on their own threads ({@link Trainer#withComputePlan}): it
 * distills with augmentation and a live teacher as the whole-batch training does, and a run stopped in the
 * middle of an epoch resumes to the straight split run's end bit for bit.
 */
class SplitTrainingTest {

    @TempDir
    Path temp;

    private static final ComputeThreads.Plan TWO_PARTS = new ComputeThreads.Plan(2, 1);

    /** A CNN student distilled from {@link PrefetchTest#convTeacher}: splittable (no dropout). */
    static MultiLayerNetwork student() {
        return NetworkFactory.build(new ModelSpec(List.of(
                new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
                new LayerSpec.Dense(12, Activation.RELU), new LayerSpec.Output(3))), PrefetchTest.IMAGE,
                PrefetchTest.SPEC.updater(), 0, PrefetchTest.SEED, new DistillationLoss(2, 0.5, 0.5));
    }

    private static Trainer trainer(TeacherLogits.Live teacher) {
        return new Trainer(PrefetchTest.SPEC, List.of()).withAugmentation(PrefetchTest.IMAGE, teacher);
    }

    @Test
    void aSplitDistillationLearnsWhatTheWholeBatchDistillationLearns() {
        TeacherLogits.Live teacher = TeacherLogits.live(Network.of(PrefetchTest.convTeacher()));
        MultiLayerNetwork whole = student();
        MultiLayerNetwork split = student();
        float[] initial = whole.params().toFloatVector();
        TrainingResult wholeResult = trainer(teacher).withComputePlan(ComputeThreads.Plan.whole(1))
                .fit(whole, PrefetchTest.TRAIN.features(), PrefetchTest.TRAIN.oneHot(), PrefetchTest.PARTS.second(),
                        PrefetchTest.SEED);
        TrainingResult splitResult = trainer(teacher).withComputePlan(TWO_PARTS)
                .fit(split, PrefetchTest.TRAIN.features(), PrefetchTest.TRAIN.oneHot(), PrefetchTest.PARTS.second(),
                        PrefetchTest.SEED);
        double moved = whole.params().sub(org.nd4j.linalg.factory.Nd4j.create(initial)).norm2Number().doubleValue();
        double apart = whole.params().sub(split.params()).norm2Number().doubleValue();
        assertTrue(moved > 0.1, "trained: moved " + moved);
        assertTrue(apart < 1e-3 * moved, apart + " apart after moving " + moved);
        assertEquals(wholeResult.history().size(), splitResult.history().size());
        for (int e = 0; e < wholeResult.history().size(); e++) {
            assertEquals(wholeResult.history().get(e).trainLoss(), splitResult.history().get(e).trainLoss(), 1e-4,
                    "epoch " + (e + 1) + "'s loss");
        }
    }

    @Test
    void aSplitRunStoppedMidEpochAndResumedEndsAsTheStraightSplitRun() {
        TeacherLogits.Live teacher = TeacherLogits.live(Network.of(PrefetchTest.convTeacher()));
        MultiLayerNetwork straight = student();
        trainer(teacher).withComputePlan(TWO_PARTS).fit(straight, PrefetchTest.TRAIN.features(),
                PrefetchTest.TRAIN.oneHot(), PrefetchTest.PARTS.second(), PrefetchTest.SEED);
        CheckpointPolicy everyBatch = new CheckpointPolicy(1, 3, 1e-9);
        CheckpointStore store = new CheckpointStore(temp.resolve("stopped"), 3);
        assertThrows(PrefetchTest.Stopped.class, () -> trainer(teacher).withComputePlan(TWO_PARTS)
                .withCheckpoints(everyBatch, new PrefetchTest.StopAt(store, 5))
                .fit(student(), PrefetchTest.TRAIN.features(), PrefetchTest.TRAIN.oneHot(),
                        PrefetchTest.PARTS.second(), PrefetchTest.SEED));
        CheckpointStore.Restored restored = PrefetchTest.newestMidEpoch(store);
        MultiLayerNetwork resumed = student();
        restored.copyInto(resumed);
        trainer(teacher).withComputePlan(TWO_PARTS).fit(resumed, PrefetchTest.TRAIN.features(),
                PrefetchTest.TRAIN.oneHot(), PrefetchTest.PARTS.second(), PrefetchTest.SEED, restored.state());
        assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f);
    }
}
