package dev.distill.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.CheckpointPolicy;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.TeacherLogits;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.core.train.TrainingState;
import dev.distill.models.network.Network;
import dev.distill.models.network.Networks;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.BlockSpec;
import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.GraphSpec.Block;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A graph model goes through the same training loop, checkpoints, teacher logits and model files as
 * a sequential one: stopped mid-epoch and resumed, it ends with the same parameters bit for bit.
 */
class GraphResumeTest {

    /** 16 features seen as a 4×4 image with one channel. */
    static final InputShape IMAGE = InputShape.image(4, 4, 1);
    static final Splits.Pair PARTS = Splits.holdOut(TinyData.blobs(240, 16, 3, 5), 0.2, 2);
    static final LabeledData TRAIN = PARTS.first();
    static final LabeledData VALIDATION = PARTS.second();
    static final GraphSpec GRAPH = new GraphSpec(List.of(
            Block.of("stem", new BlockSpec.Layer(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME, Activation.RELU))),
            Block.of("res", new BlockSpec.Residual(4, 3, 1, Activation.RELU)),
            Block.of("cat", new BlockSpec.Concat(), "input", "res", "stem"),
            Block.of("pool", new BlockSpec.Layer(new LayerSpec.GlobalPool(LayerSpec.PoolType.AVG))),
            Block.of("out", new BlockSpec.Layer(new LayerSpec.Output(3)))));
    static final TrainingSpec SPEC = new TrainingSpec(3, 32, Optimizer.ADAM, 1e-2,
            new LearningRateSchedule.Step(0.5, 2), 1e-4);
    static final long SEED = 3;

    @TempDir
    Path temp;

    static Network fresh() {
        return Networks.build(GRAPH, IMAGE, SPEC.updater(), SPEC.weightDecay(), SEED, new LossMCXENT());
    }

    @Test
    void aGraphStoppedMidEpochAndResumedGivesTheSameParametersBitForBit() {
        Network straight = fresh();
        new Trainer(SPEC, List.of()).fit(straight, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED, null);
        assertTrue(Accuracy.of(straight, VALIDATION) > 0.6, "the graph learns: " + Accuracy.of(straight, VALIDATION));

        CheckpointStore store = new CheckpointStore(temp.resolve("graph"), 2);
        ResumeTrainerTest.StopAt sink = new ResumeTrainerTest.StopAt(store, 9);
        try {
            new Trainer(SPEC, List.of()).withCheckpoints(new CheckpointPolicy(1, 2, 1e-9), sink)
                    .fit(fresh(), TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED, null);
        } catch (ResumeTrainerTest.Stopped expected) {
            // the "crash"
        }
        CheckpointStore.Restored restored = store.newestGood(w -> {
            throw new AssertionError(w);
        }).orElseThrow();
        TrainingState state = restored.state();
        assertTrue(!state.atEpochBoundary(), "stopped mid-epoch");
        assertInstanceOf(Network.Graph.class, restored.network());
        Network resumed = fresh();
        restored.copyInto(resumed);
        new Trainer(SPEC, List.of()).fit(resumed, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED, state);
        assertArrayEquals(straight.params().toFloatVector(), resumed.params().toFloatVector(), 0f);
        assertEquals(straight.epochCount(), resumed.epochCount());
        assertEquals(straight.iterationCount(), resumed.iterationCount());
        // a graph checkpoint does not go into a sequential model
        assertThrows(IllegalArgumentException.class, () -> restored.copyInto(ResumeTrainerTest.fresh()));
    }

    @Test
    void aGraphTeachersLogitsAndShippedFileAgreeWithIt() throws Exception {
        Network net = fresh();
        new Trainer(new TrainingSpec(2, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0), List.of())
                .fit(net, TRAIN.features(), TRAIN.oneHot(), VALIDATION, SEED, null);
        INDArray logits = TeacherLogits.compute(net, VALIDATION.features());
        INDArray probabilities = net.output(VALIDATION.features());
        assertEquals(0, Transforms.softmax(logits, true).sub(probabilities).amaxNumber().doubleValue(), 1e-5);
        Path file = temp.resolve("graph.zip");
        ModelFiles.saveForShipping(net, file);
        Network loaded = dev.distill.core.modelfile.ModelReader.network(file);
        assertInstanceOf(Network.Graph.class, loaded);
        assertEquals(probabilities, loaded.output(VALIDATION.features()));
        assertArrayEquals(Accuracy.predict(net, VALIDATION.features()), Accuracy.predict(loaded, VALIDATION.features()));
    }
}
