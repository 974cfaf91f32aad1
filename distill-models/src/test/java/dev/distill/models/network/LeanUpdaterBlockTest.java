package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.zoo.Zoo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Updater blocks that skip the regularization passes with nothing to apply train to DL4J's bits, with and without
 * weight decay, sequential and graph, and skip exactly the passes where no variable has a regularization.
 */
class LeanUpdaterBlockTest {

    private static final InputShape IMAGE = InputShape.image(6, 6, 1);
    private static final int STEPS = 12;

    private static Network mlp(IUpdater updater, double weightDecay) {
        return Networks.build(new ModelSpec(List.of(new LayerSpec.Dense(12, Activation.RELU),
                new LayerSpec.Output(3))), IMAGE, updater, weightDecay, 3, new LossMCXENT());
    }

    private static Network graph(double weightDecay) {
        return Networks.build(Zoo.spec("resnet-tiny", 0.5, 1, 3), IMAGE, new Adam(1e-2), weightDecay, 3,
                new LossMCXENT());
    }

    private static List<DataSet> batches() {
        Nd4j.getRandom().setSeed(2);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < STEPS; b++) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
            for (int r = 0; r < 16; r++) {
                y.putScalar(r, (r + b) % 3, 1f);
            }
            out.add(new DataSet(Nd4j.rand(DataType.FLOAT, 16, IMAGE.size()), y));
        }
        return out;
    }

    private static List<UpdaterBlock> blocks(Network net) {
        return ((BaseMultiLayerUpdater<?>) (net instanceof Network.Sequential s ? s.net().getUpdater()
                : ((Network.Graph) net).graph().getUpdater())).getUpdaterBlocks();
    }

    /** Trains DL4J's blocks and lean ones side by side; returns the lean network's blocks' skipped passes. */
    private static long trainsToDl4jsBits(Network own, Network lean, String what) {
        int installed = LeanUpdaterBlock.install(lean);
        assertEquals(blocks(lean).size(), installed, what + ": every block");
        assertEquals(installed, LeanUpdaterBlock.install(lean), what + ": installing again changes nothing");
        float[] initial = own.params().toFloatVector();
        for (DataSet b : batches()) {
            own.fit(b);
            lean.fit(b);
        }
        assertArrayEquals(own.params().toFloatVector(), lean.params().toFloatVector(), 0f, what + ": parameters");
        if (own.updaterState() != null) {   // SGD keeps none
            assertArrayEquals(own.updaterState().toFloatVector(), lean.updaterState().toFloatVector(), 0f,
                    what + ": the updater's state");
        }
        assertFalse(Arrays.equals(initial, lean.params().toFloatVector()), what + ": it trained");
        return blocks(lean).stream().mapToLong(b -> ((LeanUpdaterBlock) b).skippedPasses()).sum();
    }

    @Test
    void withoutRegularizationBothPassesOfEveryBlockAreSkippedAndTheBitsAreDl4js() {
        long skipped = trainsToDl4jsBits(mlp(new Adam(1e-2), 0), mlp(new Adam(1e-2), 0), "MLP, Adam");
        assertEquals(2L * STEPS * blocks(mlp(new Adam(1e-2), 0)).size(), skipped, "before and after the updater");
        assertTrue(trainsToDl4jsBits(graph(0), graph(0), "graph") > 0);
        assertTrue(trainsToDl4jsBits(mlp(new Sgd(0.1), 0), mlp(new Sgd(0.1), 0), "MLP, SGD") > 0);
    }

    @Test
    void weightDecayStillAppliesAfterTheUpdaterAndOnlyThePassBeforeItIsSkipped() {
        Network lean = mlp(new Adam(1e-2), 1e-1);
        long skipped = trainsToDl4jsBits(mlp(new Adam(1e-2), 1e-1), lean, "MLP, weight decay");
        // weight decay applies after the updater: the pass before it has nothing to do, the one after runs
        assertEquals((long) STEPS * blocks(lean).size(), skipped);
        assertTrue(trainsToDl4jsBits(graph(1e-1), graph(1e-1), "graph, weight decay") > 0);
        Network withoutDecay = mlp(new Adam(1e-2), 0);
        LeanUpdaterBlock.install(withoutDecay);
        for (DataSet b : batches()) {
            withoutDecay.fit(b);
        }
        assertFalse(Arrays.equals(withoutDecay.params().toFloatVector(), lean.params().toFloatVector()),
                "the decay changed what was learned");
    }
}
