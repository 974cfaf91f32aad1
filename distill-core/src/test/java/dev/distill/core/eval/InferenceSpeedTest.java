package dev.distill.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.testing.TinyData;
import dev.distill.models.network.NetworkFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class InferenceSpeedTest {

    @Test
    void oneRatePerNetworkAndTheNetworksUntouched() {
        MultiLayerNetwork a = NetworkFactory.build(TinyData.mlp(8, 3), TinyData.flat(5), new Adam(1e-3), 0, 1);
        MultiLayerNetwork b = NetworkFactory.build(TinyData.mlp(64, 3), TinyData.flat(5), new Adam(1e-3), 0, 1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 600, 5);
        INDArray before = a.output(x, false);
        double[] rates = InferenceSpeed.samplesPerSecond(x, 3, a, b);
        assertEquals(2, rates.length);
        assertTrue(rates[0] > 0 && rates[1] > 0);
        assertEquals(before, a.output(x, false));
        assertThrows(IllegalArgumentException.class, () -> InferenceSpeed.samplesPerSecond(x, 0, a));
    }
}
