package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** Per-layer and global thresholds on a network whose weights are set by hand. */
class MagnitudePrunerTest {

    /**
     * 2 inputs → dense 2 → output 2. Layer 0's weights are large (10, 20, 30, 40), the output's small
     * (1, 2, 3, 4), so one global threshold prunes the output layer first.
     */
    static MultiLayerNetwork handMade() {
        MultiLayerNetwork net = NetworkFactory.build(TinyData.mlp(2, 2), TinyData.flat(2), new Adam(1e-3), 0, 1);
        net.setParam("0_W", Nd4j.createFromArray(new float[][] {{10, -20}, {30, -40}}));
        net.setParam("0_b", Nd4j.createFromArray(new float[][] {{0.5f, 0.5f}}));
        net.setParam("1_W", Nd4j.createFromArray(new float[][] {{-1, 2}, {3, -4}}));
        net.setParam("1_b", Nd4j.createFromArray(new float[][] {{0.5f, 0.5f}}));
        return net;
    }

    static float[] kept(PruningMasks masks, String key) {
        return PruningMasks.values(masks.mask(key));
    }

    @Test
    void byDefaultOnlyTheHiddenLayersWeightsArePrunable() {
        MultiLayerNetwork net = handMade();
        assertEquals(List.of(new Prunable(0, "dense_0", "W")), Prunable.of(net, false, false));
        assertEquals(List.of("0_W", "0_b", "1_W", "1_b"),
                Prunable.of(net, true, true).stream().map(Prunable::key).toList());
        assertEquals(List.of("dense_0"), Prunable.layerNames(TinyData.mlp(2, 2), false));
        assertEquals(List.of("dense_0", "output_1"), Prunable.layerNames(TinyData.mlp(2, 2), true));
    }

    @Test
    void perLayerThresholdsPruneHalfOfEachLayer() {
        MultiLayerNetwork net = handMade();
        PruningMasks masks = MagnitudePruner.masks(net, Prunable.of(net, false, true), MagnitudePruner.Scope.LAYER,
                0.5);
        // c order: [in0→h0, in0→h1, in1→h0, in1→h1]
        assertArrayEquals(new float[] {0, 0, 1, 1}, kept(masks, "0_W"));
        assertArrayEquals(new float[] {0, 0, 1, 1}, kept(masks, "1_W"));
        assertEquals(0.5, masks.sparsity(), 0.0);
        assertEquals(Map.of("dense_0", 0.5, "output_1", 0.5), masks.layerSparsity());
    }

    @Test
    void oneGlobalThresholdPrunesTheLayerOfSmallWeightsFirst() {
        MultiLayerNetwork net = handMade();
        PruningMasks masks = MagnitudePruner.masks(net, Prunable.of(net, false, true), MagnitudePruner.Scope.GLOBAL,
                0.5);
        assertArrayEquals(new float[] {1, 1, 1, 1}, kept(masks, "0_W"));
        assertArrayEquals(new float[] {0, 0, 0, 0}, kept(masks, "1_W"));
        assertEquals(0.5, masks.sparsity(), 0.0);
        PruningMasks more = MagnitudePruner.masks(net, Prunable.of(net, false, true), MagnitudePruner.Scope.GLOBAL,
                0.75);
        assertArrayEquals(new float[] {0, 0, 1, 1}, kept(more, "0_W"));
        assertEquals(Map.of("dense_0", 0.5, "output_1", 1.0), more.layerSparsity());
    }

    @Test
    void aNamedLayerKeepsItsOwnSparsityUnderAGlobalThreshold() {
        MultiLayerNetwork net = handMade();
        PruningMasks masks = MagnitudePruner.masks(net, Prunable.of(net, false, true), MagnitudePruner.Scope.GLOBAL,
                0.5, Map.of("output_1", 0.25));
        assertArrayEquals(new float[] {0, 0, 1, 1}, kept(masks, "0_W"));
        assertArrayEquals(new float[] {0, 1, 1, 1}, kept(masks, "1_W"));
    }

    @Test
    void masksPruneExactlyTheRequestedCountEvenWithTies() {
        float[] magnitudes = {3, 1, 1, 1, 2, 0};
        assertArrayEquals(new float[] {1, 0, 0, 1, 1, 0}, MagnitudePruner.keepMask(magnitudes, 3));
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, MagnitudePruner.keepMask(magnitudes, 0));
        assertEquals(9, MagnitudePruner.count(0.9, 10));
    }

    @Test
    void applyingMasksZeroesExactlyThePrunedWeightsAndFromZerosRebuildsThem() {
        MultiLayerNetwork net = handMade();
        List<Prunable> tensors = Prunable.of(net, false, true);
        PruningMasks masks = MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, 0.5);
        masks.applyTo(net);
        assertArrayEquals(new float[] {0, 0, 30, -40}, PruningMasks.values(net.getParam("0_W")));
        assertArrayEquals(new float[] {0.5f, 0.5f}, PruningMasks.values(net.getParam("0_b")), "biases untouched");
        PruningMasks rebuilt = PruningMasks.fromZeros(net, tensors);
        assertEquals(masks.mask("0_W"), rebuilt.mask("0_W"));
        assertEquals(masks.mask("1_W"), rebuilt.mask("1_W"));
    }

    @Test
    void sparsityOutsideZeroToOneIsRejected() {
        MultiLayerNetwork net = handMade();
        List<Prunable> tensors = Prunable.of(net, false, false);
        assertThrows(IllegalArgumentException.class,
                () -> MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, 1.0));
        assertThrows(IllegalArgumentException.class,
                () -> MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, -0.1));
        assertTrue(MagnitudePruner.masks(net, tensors, MagnitudePruner.Scope.LAYER, 0).sparsity() == 0);
    }
}
