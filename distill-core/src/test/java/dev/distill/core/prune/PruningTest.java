package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.FineTuning;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The stage's schedules end to end on a small trained MLP; the input model is never changed. */
class PruningTest {

    static final ModelSpec SPEC = TinyData.mlp(24, 3);
    static MultiLayerNetwork trained;
    static INDArray trainedParams;

    @BeforeAll
    static void train() {
        trained = MaskKeeperTest.trained();
        trainedParams = trained.params().dup();
    }

    static PruneSettings settings(PruneSettings.Method method, PruneSettings.Schedule schedule, double sparsity,
            int epochs, int rounds, Double maxDrop) {
        return new PruneSettings(method, MagnitudePruner.Scope.LAYER, sparsity, Map.of(), false, false, schedule,
                epochs, rounds, maxDrop, 0, 0, Math.max(1, epochs - 1), 5, StructuredPruner.Norm.L1);
    }

    static Pruning.Outcome run(PruneSettings s) {
        Pruning pruning = new Pruning(s, new FineTuning(spec -> NetworkFactory.build(spec, TinyData.flat(8),
                MaskKeeperTest.spec(1).updater(), 0, 5), MaskKeeperTest.spec(1), MaskKeeperTest.PARTS.first().features(),
                MaskKeeperTest.PARTS.first().oneHot(), MaskKeeperTest.PARTS.second(), 5, List.of()));
        Pruning.Outcome o = pruning.run(trained, SPEC, TinyData.flat(8));
        assertEquals(trainedParams, trained.params(), "the input model is not changed");
        return o;
    }

    @Test
    void oneShotPrunesToTheTargetAndFineTuningRecovers() {
        Pruning.Outcome o = run(settings(PruneSettings.Method.MAGNITUDE, PruneSettings.Schedule.ONE_SHOT, 0.8, 2, 1,
                null));
        assertEquals(0.8, o.sparsity(), 0.005);
        assertEquals(Map.of("dense_0", o.sparsity()), o.layerSparsity());
        Pruning.Round r = o.rounds().get(0);
        assertTrue(r.validationAfterFineTuning() >= r.validationAfterPruning(), r.toString());
        assertEquals(r.validationAfterFineTuning(), Accuracy.of(o.net(), MaskKeeperTest.PARTS.second()), 0.0);
    }

    @Test
    void gradualEndsAtTheFinalSparsity() {
        Pruning.Outcome o = run(settings(PruneSettings.Method.MAGNITUDE, PruneSettings.Schedule.GRADUAL, 0.75, 3, 1,
                null));
        assertEquals(0.75, o.sparsity(), 0.006);
        assertTrue(o.rounds().get(0).validationAfterFineTuning() > 0.8, o.rounds().toString());
    }

    @Test
    void iterativeRoundsClimbTheCubicAndStopWhenAccuracyDropsTooFar() {
        Pruning.Outcome free = run(settings(PruneSettings.Method.MAGNITUDE, PruneSettings.Schedule.ITERATIVE, 0.9, 1,
                3, null));
        assertEquals(3, free.rounds().size());
        assertTrue(free.rounds().get(0).sparsity() < free.rounds().get(1).sparsity());
        assertEquals(0.9, free.sparsity(), 0.006);
        assertNull(free.stopped());
        // no drop allowed at 99%: some round must fall below the unpruned accuracy; its model is not kept
        Pruning.Outcome strict = run(settings(PruneSettings.Method.MAGNITUDE, PruneSettings.Schedule.ITERATIVE, 0.99,
                1, 4, 0.0));
        Pruning.Round last = strict.rounds().get(strict.rounds().size() - 1);
        assertFalse(last.kept());
        assertNotNull(strict.stopped());
        double keptSparsity = strict.rounds().size() == 1 ? 0 : strict.rounds().get(strict.rounds().size() - 2).sparsity();
        assertEquals(keptSparsity, strict.sparsity(), 0.0, "the last good round's model is kept");
        assertTrue(Accuracy.of(strict.net(), MaskKeeperTest.PARTS.second()) >= strict.validationBefore());
    }

    @Test
    void structuredBuildsASmallerNetwork() {
        Pruning.Outcome o = run(settings(PruneSettings.Method.STRUCTURED, PruneSettings.Schedule.ONE_SHOT, 0.5, 1, 1,
                null));
        assertEquals(12, o.net().getParam("0_W").size(1));
        assertEquals(12 * 8 + 12 + 12 * 3 + 3, o.net().numParams());
        assertEquals(0.5, o.sparsity(), 1e-9);
        assertEquals(Map.of("dense_0", 0.5, "output_1", 0.5), o.layerSparsity());
    }

    @Test
    void badSettingsNameTheirKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(
                PruneSettings.Method.MAGNITUDE, PruneSettings.Schedule.ONE_SHOT, 1.0, 1, 1, null));
        assertTrue(e.getMessage().startsWith("sparsity"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(PruneSettings.Method.STRUCTURED,
                PruneSettings.Schedule.GRADUAL, 0.5, 2, 1, null));
        assertTrue(e.getMessage().contains("one_shot"), e.getMessage());
    }
}
