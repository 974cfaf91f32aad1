package dev.distill.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.Augmentation;
import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.io.CheckpointStore;
import dev.distill.core.loss.DistillationLoss;
import dev.distill.core.testing.TinyData;
import dev.distill.models.network.Network;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Augmented batches with a live teacher's targets, prepared one ahead on the fit call's own thread:
 * the same parameters bit for bit as preparing them on the training thread, and a failure of the
 * preparing thread is the fit call's failure, with no thread left behind; a run stopped at a checkpoint
 * while the next batch was being prepared resumes to the same end.
 */
class PrefetchTest {

    @TempDir
    Path temp;

    static final InputShape IMAGE = InputShape.image(4, 4, 1);
    static final Splits.Pair PARTS = Splits.holdOut(TinyData.blobs(300, IMAGE.size(), 3, 6), 0.2, 2);
    static final LabeledData TRAIN = PARTS.first();
    static final TrainingSpec SPEC = new TrainingSpec(2, 32, Optimizer.ADAM, 5e-3, new LearningRateSchedule.Cosine(0),
            0, new Augmentation(1, true, 0.3));
    static final long SEED = 13;

    /** A small CNN teacher, untrained (its logits need only be a fixed function of the view). */
    static MultiLayerNetwork convTeacher() {
        return NetworkFactory.build(new ModelSpec(List.of(
                new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU), new LayerSpec.Output(3))),
                IMAGE, SPEC.updater(), 0, 3);
    }

    /** A student with dropout: a draw from ND4J's generator moved to another thread would show. */
    static MultiLayerNetwork student() {
        return NetworkFactory.build(new ModelSpec(List.of(new LayerSpec.Dense(12, Activation.RELU),
                new LayerSpec.Dropout(0.3), new LayerSpec.Output(3))), IMAGE, SPEC.updater(), 0, SEED,
                new DistillationLoss(2, 0.5, 0.5));
    }

    static boolean prefetchThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(Trainer.PREFETCH_THREAD) && t.isAlive());
    }

    @Test
    void distillationWithALiveTeacherEndsBitForBitTheSameWithPrefetchOnAndOff() {
        TeacherLogits.Live compiled = TeacherLogits.live(Network.of(convTeacher()));
        assertEquals("compiled runtime", compiled.how());
        Set<String> teacherThreads = ConcurrentHashMap.newKeySet();
        TeacherLogits.Live teacher = new TeacherLogits.Live(compiled.how(), x -> {
            teacherThreads.add(Thread.currentThread().getName());
            return compiled.logits(x);
        });
        // without augmentation the student trains on the gathered rows themselves: the two buffer sets in turn
        TrainingSpec unaugmented = new TrainingSpec(SPEC.epochs(), SPEC.batchSize(), SPEC.optimizer(),
                SPEC.learningRate(), SPEC.schedule(), 0);
        for (TrainingSpec spec : List.of(SPEC, unaugmented)) {
            teacherThreads.clear();
            MultiLayerNetwork serial = student();
            TrainingResult serialResult = Trainer.withPrefetch(false, () -> new Trainer(spec, List.of())
                    .withAugmentation(IMAGE, teacher)
                    .fit(serial, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
            assertEquals(Set.of(Thread.currentThread().getName()), teacherThreads, "serial: the training thread");

            teacherThreads.clear();
            MultiLayerNetwork prefetched = student();
            TrainingResult prefetchedResult = Trainer.withPrefetch(true, () -> new Trainer(spec, List.of())
                    .withAugmentation(IMAGE, teacher)
                    .fit(prefetched, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
            assertEquals(Set.of(Trainer.PREFETCH_THREAD), teacherThreads, "prefetched: only the preparing thread");

            assertArrayEquals(serial.params().toFloatVector(), prefetched.params().toFloatVector(), 0f,
                    spec.augment().toString());
            for (int e = 0; e < spec.epochs(); e++) {
                assertEquals(serialResult.history().get(e).trainLoss(),
                        prefetchedResult.history().get(e).trainLoss(), 0.0, spec.augment() + ", epoch " + (e + 1));
            }
            assertFalse(prefetchThreadAlive(), "the preparing thread ended with the fit call");
        }
    }

    @Test
    void aTeacherFailingOnThePreparingThreadFailsTheFitWithItsOwnExceptionAndLeavesNoThread() {
        TeacherLogits.Live compiled = TeacherLogits.live(Network.of(convTeacher()));
        AtomicInteger calls = new AtomicInteger();
        IllegalStateException broken = new IllegalStateException("the teacher broke on its third batch");
        // the third batch fails while the student trains on the second
        TeacherLogits.Live teacher = new TeacherLogits.Live("failing", x -> {
            if (calls.incrementAndGet() == 3) {
                throw broken;
            }
            return compiled.logits(x);
        });
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Trainer.withPrefetch(true,
                () -> new Trainer(SPEC, List.of()).withAugmentation(IMAGE, teacher)
                        .fit(student(), TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED)));
        assertSame(broken, thrown);
        assertEquals("the teacher broke on its third batch", thrown.getMessage());
        assertEquals(3, calls.get(), "no batch was prepared after the failure");
        assertFalse(prefetchThreadAlive(), "the preparing thread ended with the fit call");
    }

    @Test
    void aTeacherSeveralThreadsMayCallPreparesBatchesOnSeveralThreadsWithTheSerialRunsBitsNeverSharingACopy() {
        TeacherLogits.Live compiled = TeacherLogits.live(Network.of(convTeacher()));
        assertTrue(compiled.concurrent(), "a compiled teacher may be called by several threads at once");
        Set<Thread> callers = ConcurrentHashMap.newKeySet();
        AtomicInteger sharedCopy = new AtomicInteger();
        java.util.function.Supplier<java.util.function.UnaryOperator<org.nd4j.linalg.api.ndarray.INDArray>> copy =
                () -> {
                    java.util.concurrent.atomic.AtomicBoolean inUse = new java.util.concurrent.atomic.AtomicBoolean();
                    return x -> {
                        if (!inUse.compareAndSet(false, true)) {
                            sharedCopy.incrementAndGet();
                        }
                        try {
                            callers.add(Thread.currentThread());
                            return compiled.logits(x);
                        } finally {
                            inUse.set(false);
                        }
                    };
                };
        TeacherLogits.Live teacher = TeacherLogits.Live.concurrent("recording", copy.get(), copy);
        // without augmentation the student trains on the gathered rows themselves: the buffer sets in turn
        TrainingSpec unaugmented = new TrainingSpec(SPEC.epochs(), SPEC.batchSize(), SPEC.optimizer(),
                SPEC.learningRate(), SPEC.schedule(), 0);
        for (TrainingSpec spec : List.of(SPEC, unaugmented)) {
            MultiLayerNetwork serial = student();
            TrainingResult serialResult = Trainer.withPrefetch(false, () -> new Trainer(spec, List.of())
                    .withAugmentation(IMAGE, teacher)
                    .fit(serial, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
            callers.clear();
            MultiLayerNetwork threeThreads = student();
            TrainingResult threeResult = Trainer.withPrefetchThreads(3, () -> new Trainer(spec, List.of())
                    .withAugmentation(IMAGE, teacher)
                    .fit(threeThreads, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
            assertEquals(3, callers.size(), "three threads called the teacher");
            assertTrue(callers.stream().allMatch(t -> t.getName().equals(Trainer.PREFETCH_THREAD)));
            assertEquals(0, sharedCopy.get(), "no two calls at once on one copy");
            assertArrayEquals(serial.params().toFloatVector(), threeThreads.params().toFloatVector(), 0f,
                    spec.augment().toString());
            for (int e = 0; e < spec.epochs(); e++) {
                assertEquals(serialResult.history().get(e).trainLoss(), threeResult.history().get(e).trainLoss(), 0.0,
                        spec.augment() + ", epoch " + (e + 1));
            }
            assertFalse(prefetchThreadAlive(), "the preparing threads ended with the fit call");
        }
    }

    @Test
    void aTeacherOfOneForwardPassIsCalledByOneThreadWhateverThePropertyAsks() {
        TeacherLogits.Live compiled = TeacherLogits.live(Network.of(convTeacher()));
        Set<Thread> callers = ConcurrentHashMap.newKeySet();
        TeacherLogits.Live teacher = new TeacherLogits.Live("one forward", x -> {
            callers.add(Thread.currentThread());
            return compiled.logits(x);
        });
        Trainer.withPrefetchThreads(3, () -> new Trainer(SPEC, List.of()).withAugmentation(IMAGE, teacher)
                .fit(student(), TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
        assertEquals(1, callers.size());
    }

    @Test
    void aMalformedPrefetchPropertyIsOneLineNamingItAndWhatWouldBeRight() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.withPrefetch("two",
                () -> new Trainer(SPEC, List.of()).withAugmentation(IMAGE, null)
                        .fit(student(), TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED)));
        assertEquals("-Ddistill.prefetch=two: expected true, false or a positive number of threads", e.getMessage());
    }

    /** Stores every checkpoint, and stops the run (by throwing) at the chosen one. */
    static final class StopAt implements CheckpointSink {
        final CheckpointStore store;
        final int stopAt;
        int saved;

        StopAt(CheckpointStore store, int stopAt) {
            this.store = store;
            this.stopAt = stopAt;
        }

        @Override
        public void save(Network net, TrainingState state) {
            store.save(net, state);
            if (++saved == stopAt) {
                throw new Stopped();
            }
        }
    }

    static final class Stopped extends RuntimeException {
    }

    /** The newest good checkpoint of {@code store}, which must have been written in the middle of an epoch. */
    static CheckpointStore.Restored newestMidEpoch(CheckpointStore store) {
        CheckpointStore.Restored restored = store.newestGood(w -> {
            throw new AssertionError(w);
        }).orElseThrow();
        assertTrue(!restored.state().atEpochBoundary(), "stopped in the middle of an epoch");
        return restored;
    }

    @Test
    void aPrefetchedRunStoppedMidEpochAndResumedEndsAsTheSerialStraightRun() {
        TeacherLogits.Live teacher = TeacherLogits.live(Network.of(convTeacher()));
        MultiLayerNetwork straight = student();
        Trainer.withPrefetch(false, () -> new Trainer(SPEC, List.of()).withAugmentation(IMAGE, teacher)
                .fit(straight, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED));
        // a checkpoint at every batch boundary: 240 examples in batches of 32 are 8 per epoch with its end
        CheckpointPolicy everyBatch = new CheckpointPolicy(1, 3, 1e-9);
        for (int stopAt : new int[] {3, 11}) {
            CheckpointStore store = new CheckpointStore(temp.resolve("stop" + stopAt), 3);
            assertThrows(Stopped.class, () -> Trainer.withPrefetch(true, () -> new Trainer(SPEC, List.of())
                    .withCheckpoints(everyBatch, new StopAt(store, stopAt)).withAugmentation(IMAGE, teacher)
                    .fit(student(), TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED)));
            assertFalse(prefetchThreadAlive(), "the preparing thread ended with the stopped fit call");
            CheckpointStore.Restored restored = newestMidEpoch(store);
            MultiLayerNetwork resumed = student();
            restored.copyInto(resumed);
            Trainer.withPrefetch(true, () -> new Trainer(SPEC, List.of()).withAugmentation(IMAGE, teacher)
                    .fit(resumed, TRAIN.features(), TRAIN.oneHot(), PARTS.second(), SEED, restored.state()));
            assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f,
                    "stopped at checkpoint " + stopAt);
        }
    }
}
