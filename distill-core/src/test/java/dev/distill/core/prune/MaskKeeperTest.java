package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.NetworkFactory;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Pruned weights stay exactly zero through Adam fine-tuning; gradual pruning reaches its target. */
class MaskKeeperTest {

    static final LabeledData ALL = TinyData.blobs(600, 8, 3, 5);
    static final Splits.Pair PARTS = Splits.holdOut(ALL, 0.2, 2);

    static TrainingSpec spec(int epochs) {
        return new TrainingSpec(epochs, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0);
    }

    static MultiLayerNetwork trained() {
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(24, 3), TinyData.flat(8), spec(4).updater(), 0, 3);
        new Trainer(spec(4), List.of()).fit(net, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 3);
        return net;
    }

    static long nonzeroAt(INDArray values, INDArray mask) {
        return values.mul(mask.rsub(1)).neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber().longValue();
    }

    @Test
    void prunedWeightsStayExactlyZeroThroughAdamFineTuning() {
        MultiLayerNetwork net = trained();
        List<Prunable> tensors = Prunable.of(net, true, true);
        PruningMasks masks = MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.GLOBAL, 0.7);
        MaskKeeper keeper = new MaskKeeper(net, masks);
        new Trainer(spec(3), List.of(keeper)).fit(net, PARTS.first().features(), PARTS.first().oneHot(),
                PARTS.second(), 4);
        for (Prunable t : tensors) {
            assertEquals(0, nonzeroAt(net.getParam(t.key()), masks.mask(t.key())), t.key() + " has revived weights");
        }
        assertEquals(masks.sparsity(), PruningMasks.fromZeros(net, tensors).sparsity(), 0.0);
        assertEquals(0.7, masks.sparsity(), 0.005);
        assertTrue(Accuracy.of(net, PARTS.second()) > 0.85, "fine-tuned accuracy " + Accuracy.of(net, PARTS.second()));
    }

    @Test
    void withoutTheKeeperAdamBringsPrunedWeightsBack() {
        MultiLayerNetwork net = trained();
        List<Prunable> tensors = Prunable.of(net, false, false);
        PruningMasks masks = MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, 0.7);
        masks.applyTo(net);
        new Trainer(spec(1), List.of()).fit(net, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 4);
        assertTrue(nonzeroAt(net.getParam("0_W"), masks.mask("0_W")) > 0, "the hook is what keeps them at zero");
    }

    @Test
    void gradualPruningFollowsTheScheduleToItsFinalSparsity() {
        MultiLayerNetwork net = trained();
        List<Prunable> tensors = Prunable.of(net, false, false);
        // 480 examples in batches of 32: 15 steps an epoch; prune over epochs 1-2, recover in epoch 3
        PruningSchedule schedule = new PruningSchedule(0, 0.8, 0, 30, 5);
        MaskKeeper keeper = new MaskKeeper(net, PruningMasks.fromZeros(net, tensors), schedule,
                MagnitudePruner.Scope.LAYER);
        double[] seen = new double[46];
        dev.distill.core.train.TrainingListener probe = new dev.distill.core.train.TrainingListener() {
            int step;

            @Override
            public void batchDone(long examplesDone, double batchLoss) {
                seen[++step] = keeper.masks().sparsity();
            }
        };
        new Trainer(spec(3), List.of(keeper, probe)).fit(net, PARTS.first().features(), PARTS.first().oneHot(),
                LabeledData.class.cast(PARTS.second().subset(new int[0])), 4);
        assertEquals(45, keeper.steps());
        assertEquals(MagnitudePruner.count(schedule.sparsityAt(5), 192) / 192.0, seen[5], 1e-9);
        assertEquals(MagnitudePruner.count(schedule.sparsityAt(15), 192) / 192.0, seen[15], 1e-9);
        assertEquals(seen[15], seen[19], 0.0, "no update between updates");
        assertEquals(0.8, seen[30], 0.005);
        assertEquals(seen[30], PruningMasks.fromZeros(net, tensors).sparsity(), 0.0, "the network ends at the target");
    }
}
