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

    @Test
    void oneAtATimeTimesFewerExamplesWhenEachCallIsSlow() {
        float[][] inputs = new float[20_000][16];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i][i % 16] = 1f;
        }
        // about a millisecond a call: a whole pass would take 20 s, the pass is cut to a quarter second
        java.util.function.ToIntFunction<float[]> slow = x -> {
            double acc = 0;
            for (int i = 0; i < 400_000; i++) {
                acc += Math.sqrt(i + x[i & 15]);
            }
            return (int) acc & 7;
        };
        java.util.function.ToIntFunction<float[]> fast = x -> x[0] > 0 ? 1 : 0;
        InferenceSpeed.OneAtATime speed = InferenceSpeed.oneAtATime(inputs, 3, java.util.List.of(slow, fast));
        assertEquals(2, speed.samplesPerSecond().length);
        assertTrue(speed.samplesPerSecond()[1] > speed.samplesPerSecond()[0], "the cheap predictor is faster");
        assertTrue(speed.examplesTimed() >= InferenceSpeed.MIN_TIMED_EXAMPLES
                && speed.examplesTimed() < inputs.length / 4, "examples timed: " + speed.examplesTimed());

        InferenceSpeed.OneAtATime cheap = InferenceSpeed.oneAtATime(new float[][] {{1f}, {0f}}, 1, java.util.List.of(fast));
        assertEquals(2, cheap.examplesTimed(), "never more examples than given");
        assertThrows(IllegalArgumentException.class, () -> InferenceSpeed.oneAtATime(new float[0][], 1, java.util.List.of(fast)));
    }
}
