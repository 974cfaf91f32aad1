package dev.distill.models.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.Activation;
import dev.distill.models.spec.InputShape;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import dev.distill.models.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A batch split in parts computed on their own threads steps the network as the whole batch does: the same
 * parameters up to the rounding of the sums, the same loss, the same counters, the same optimizer state; the
 * same split run twice ends bit for bit equal; networks whose step depends on the split are refused.
 */
class SplitBatchStepsTest {

    private static final InputShape IMAGE = InputShape.image(8, 8, 1);
    private static final ModelSpec CNN = new ModelSpec(List.of(
            new LayerSpec.Conv2d(6, 3, 1, LayerSpec.Padding.SAME, Activation.RELU),
            new LayerSpec.Pool(LayerSpec.PoolType.MAX, 2, 2),
            new LayerSpec.Dense(16, Activation.RELU),
            new LayerSpec.Output(4)));

    private static Network build(NetworkSpec spec, double weightDecay) {
        return Networks.build(spec, IMAGE, new Adam(1e-2), weightDecay, 7, new LossMCXENT());
    }

    /** Batches of {@code rows} examples whose class is set by which quarter of the image is brightest. */
    private static List<DataSet> batches(int count, int rows) {
        Nd4j.getRandom().setSeed(11);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, rows, IMAGE.size());
            INDArray y = Nd4j.zeros(DataType.FLOAT, rows, 4);
            for (int r = 0; r < rows; r++) {
                int k = (r * 7 + b) % 4;
                for (int p = k * 16; p < k * 16 + 16; p++) {
                    x.putScalar(r, p, x.getFloat(r, p) + 1f);
                }
                y.putScalar(r, k, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    private static List<Double> trainWhole(Network net, List<DataSet> batches) {
        List<Double> losses = new ArrayList<>();
        for (DataSet b : batches) {
            net.fit(b);
            losses.add(net.score());
        }
        return losses;
    }

    private static List<Double> trainSplit(Network net, List<DataSet> batches, int parts) {
        List<Double> losses = new ArrayList<>();
        try (SplitBatchSteps split = SplitBatchSteps.of(net, parts)) {
            for (DataSet b : batches) {
                losses.add(split.fit(b));
            }
        }
        return losses;
    }

    @Test
    void aSplitBatchStepsTheNetworkAsTheWholeBatchDoesUpToRounding() {
        // uneven parts (45 rows in 2 and 3 parts), weight decay applied once, and enough steps that a replica
        // reading stale parameters would drift away
        for (int parts : new int[] {2, 3}) {
            List<DataSet> data = batches(8, 45);
            Network whole = build(CNN, 1e-3);
            Network split = build(CNN, 1e-3);
            INDArray initial = whole.params().dup();
            List<Double> wholeLosses = trainWhole(whole, data);
            List<Double> splitLosses = trainSplit(split, data, parts);
            float[] w = whole.params().toFloatVector();
            float[] s = split.params().toFloatVector();
            double moved = whole.params().sub(initial).norm2Number().doubleValue();
            double apart = whole.params().sub(split.params()).norm2Number().doubleValue();
            assertTrue(moved > 0.1, "the network learned: moved " + moved);
            assertTrue(apart < 1e-4 * moved, parts + " parts: " + apart + " apart after moving " + moved);
            assertEquals(w.length, s.length);
            for (int i = 0; i < wholeLosses.size(); i++) {
                assertEquals(wholeLosses.get(i), splitLosses.get(i), 1e-5 * wholeLosses.get(i), "loss of step " + i);
            }
            assertTrue(wholeLosses.get(7) < wholeLosses.get(0), "the loss fell: " + wholeLosses);
            assertEquals(whole.iterationCount(), split.iterationCount());
            assertEquals(8, split.iterationCount());
            assertEquals(split.score(), splitLosses.get(7), 0.0, "the network's score is the whole batch's loss");
            INDArray wholeState = whole.updaterState();
            double stateApart = wholeState.sub(split.updaterState()).norm2Number().doubleValue();
            assertTrue(stateApart < 1e-4 * wholeState.norm2Number().doubleValue(), "Adam's moments: " + stateApart);
        }
    }

    @Test
    void theSameSplitRunTwiceEndsBitForBitEqualAndATinyBatchIsStepppedWhole() {
        List<DataSet> data = batches(5, 40);
        data.add(batches(1, 3).get(0));   // fewer rows than two per part: stepped whole
        Network first = build(CNN, 0);
        Network second = build(CNN, 0);
        trainSplit(first, data, 2);
        trainSplit(second, data, 2);
        assertArrayEquals(first.params().toFloatVector(), second.params().toFloatVector(), 0f);
        assertEquals(6, first.iterationCount());
    }

    @Test
    void aNetworkWhoseStepDependsOnTheSplitIsRefusedInOneLine() {
        Network dropout = build(new ModelSpec(List.of(new LayerSpec.Dense(8, Activation.RELU),
                new LayerSpec.Dropout(0.2), new LayerSpec.Output(4))), 0);
        Network batchNorm = build(new ModelSpec(List.of(new LayerSpec.Conv2d(4, 3, 1, LayerSpec.Padding.SAME,
                Activation.IDENTITY), new LayerSpec.BatchNorm(), new LayerSpec.Output(4))), 0);
        Network graph = Networks.build(Zoo.spec("resnet-tiny", 1, 1, 4), IMAGE, new Adam(1e-3), 0, 1,
                new LossMCXENT());
        Network listened = build(CNN, 0);
        listened.model().setListeners(new ScoreIterationListener(1000));
        assertTrue(SplitBatchSteps.supports(build(CNN, 0)));
        for (Network refused : List.of(dropout, batchNorm, graph, listened)) {
            assertFalse(SplitBatchSteps.supports(refused));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SplitBatchSteps.of(refused, 2));
            assertTrue(e.getMessage().startsWith("cannot split this network's batches: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertEquals("a split batch has at least 2 parts, not 1",
                assertThrows(IllegalArgumentException.class, () -> SplitBatchSteps.of(build(CNN, 0), 1)).getMessage());
    }

    @Test
    void theRuleSplitsACostlyBatchOfASplittableNetworkIntoOneThreadPartsAndNothingElse() {
        long teacher = 4_643_840L * 128;
        assertEquals(new ComputeThreads.Plan(2, 1), ComputeThreads.forBatch(teacher, 2, 128, true));
        assertEquals(ComputeThreads.Plan.whole(2), ComputeThreads.forBatch(teacher, 2, 128, false));
        assertEquals(ComputeThreads.Plan.whole(2), ComputeThreads.forBatch(teacher, 2, 63, true), "parts of 31 rows");
        assertEquals(ComputeThreads.Plan.whole(1), ComputeThreads.forBatch(teacher, 1, 128, true));
        assertEquals(ComputeThreads.Plan.whole(1), ComputeThreads.forBatch(25_450L * 128, 2, 128, true));
        assertEquals(new ComputeThreads.Plan(4, 2), ComputeThreads.forBatch(teacher, 8, 128, true));
        assertEquals("2 parts of each batch, 1 thread each", new ComputeThreads.Plan(2, 1).toString());
    }
}
