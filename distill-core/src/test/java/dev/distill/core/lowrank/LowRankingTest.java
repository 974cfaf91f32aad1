package dev.distill.core.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.data.LabeledData;
import dev.distill.core.data.Splits;
import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.FineTuning;
import dev.distill.core.train.LearningRateSchedule;
import dev.distill.core.train.Optimizer;
import dev.distill.core.train.Trainer;
import dev.distill.core.train.TrainingSpec;
import dev.distill.models.network.NetworkFactory;
import dev.distill.models.spec.Activation;
import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The stage end to end on a small trained MLP: ranks, layer order, fine-tuning; the input model is never changed. */
class LowRankingTest {

    static final LabeledData ALL = TinyData.blobs(600, 20, 3, 9);
    static final Splits.Pair PARTS = Splits.holdOut(ALL, 0.2, 2);
    static final ModelSpec SPEC = new ModelSpec(List.of(new LayerSpec.Dense(16, Activation.RELU),
            new LayerSpec.Dense(12, Activation.RELU), new LayerSpec.Output(3)));
    static MultiLayerNetwork trained;
    static INDArray trainedParams;

    static TrainingSpec spec(int epochs) {
        return new TrainingSpec(epochs, 32, Optimizer.ADAM, 1e-2, new LearningRateSchedule.Constant(), 0);
    }

    @BeforeAll
    static void train() {
        trained = NetworkFactory.build(SPEC, TinyData.flat(20), spec(4).updater(), 0, 3);
        new Trainer(spec(4), List.of()).fit(trained, PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(),
                3);
        trainedParams = trained.params().dup();
    }

    static LowRankSettings settings(Double energy, Double paramRatio, List<String> layers, int epochs) {
        return new LowRankSettings(energy, paramRatio, layers, LowRankSettings.Conv.FILTERS, epochs);
    }

    static LowRanking.Outcome run(LowRankSettings settings) {
        LowRanking.Outcome o = new LowRanking(settings, new FineTuning(s -> NetworkFactory.build(s, TinyData.flat(20),
                spec(1).updater(), 0, 5), spec(1), PARTS.first().features(), PARTS.first().oneHot(), PARTS.second(), 5,
                List.of())).run(trained, SPEC);
        assertEquals(trainedParams, trained.params(), "the input model is not changed");
        return o;
    }

    @Test
    void halfTheParametersOfEveryHiddenLayerFromInputToOutputThenFineTuned() {
        // listed output to input: factorized input to output all the same
        LowRanking.Outcome o = run(settings(null, 0.5, List.of("dense_1", "dense_0"), 2));
        assertEquals(List.of("dense_0", "dense_1"), o.layers().stream().map(LowRanking.LayerOutcome::layer).toList());
        // dense_0: 20x16 + 16 = 336; half is 168, rank floor((168 - 16) / 36) = 4: 4 x 36 + 16 = 160
        LowRanking.LayerOutcome first = o.layers().get(0);
        assertEquals(4, first.rank());
        assertEquals(16, first.fullRank());
        assertEquals(336, first.paramsBefore());
        assertEquals(160, first.paramsAfter());
        // dense_1: 16x12 + 12 = 204; half 102, rank floor(90 / 28) = 3: 3 x 28 + 12 = 96
        assertEquals(3, o.layers().get(1).rank());
        assertEquals(96, o.layers().get(1).paramsAfter());
        assertEquals(160 + 96 + 12 * 3 + 3, o.net().numParams());
        assertEquals(o.net().numParams(), o.spec().cost(TinyData.flat(20), 3).params());
        assertEquals(5, o.spec().layers().size());
        for (LowRanking.LayerOutcome l : o.layers()) {
            assertTrue(l.factorized());
            assertTrue(l.reconstructionError() > 0 && l.reconstructionError() < 1, l.toString());
            assertTrue(l.validationAfterFineTuning() > 0.8, l.toString());
        }
        assertEquals(o.layers().get(1).validationAfterFineTuning(), Accuracy.of(o.net(), PARTS.second()), 0.0);
    }

    @Test
    void aLayerWhoseFactorsWouldNotBeSmallerIsKept() {
        // all the energy needs full rank 16 of dense_0: 16 x 36 + 16 = 592 > 336
        LowRanking.Outcome o = run(settings(1.0, null, List.of("dense_0"), 1));
        LowRanking.LayerOutcome l = o.layers().get(0);
        assertFalse(l.factorized());
        assertEquals(16, l.rank());
        assertEquals(0, l.reconstructionError(), 1e-6);
        assertNull(l.validationAfterFineTuning());
        assertEquals(SPEC, o.spec());
        assertEquals(trainedParams, o.net().params(), "not fine-tuned either");
    }

    @Test
    void anUnknownLayerIsRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run(settings(0.9, null, List.of("dense_2"), 1)));
        assertEquals("no layer 'dense_2' to factorize; the model's dense and conv2d layers: dense_0, dense_1",
                e.getMessage());
    }

    @Test
    void settingsNeedExactlyOneRule() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> settings(null, null, List.of(), 1))
                .getMessage().startsWith("energy or param_ratio is required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> settings(0.9, 0.5, List.of(), 1))
                .getMessage().startsWith("energy and param_ratio both set"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> settings(null, 1.0, List.of(), 1))
                .getMessage().startsWith("param_ratio must be in (0, 1)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> settings(1.5, null, List.of(), 1))
                .getMessage().startsWith("energy must be in (0, 1]"));
    }
}
