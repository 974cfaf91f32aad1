package dev.distill.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.eval.Accuracy;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class SensitivityTest {

    @Test
    void everyLayerAtEverySparsityAndTheNetworkUntouched() {
        MultiLayerNetwork net = MaskKeeperTest.trained();
        INDArray params = net.params().dup();
        List<Sensitivity.Point> points = Sensitivity.scan(net, MaskKeeperTest.PARTS.second(), Sensitivity.tenths());
        assertEquals(18, points.size(), "dense_0 and output_1 at nine sparsities");
        assertEquals(params, net.params());
        assertEquals("dense_0", points.get(0).layer());
        assertEquals(8 * 24, points.get(0).weights());
        assertEquals(0.1, points.get(0).sparsity(), 1e-12);
        assertEquals("output_1", points.get(17).layer());
        assertEquals(0.9, points.get(17).sparsity(), 1e-12);
        double full = Accuracy.of(net, MaskKeeperTest.PARTS.second());
        assertTrue(points.get(0).accuracy() > full - 0.05, "10% of the smallest weights hardly matter");
        assertTrue(points.get(17).accuracy() < points.get(9).accuracy() + 0.05, points.toString());
    }
}
