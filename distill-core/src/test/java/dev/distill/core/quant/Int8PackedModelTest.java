package dev.distill.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.Optimizer;
import dev.distill.runtime.Int8Dot;
import dev.distill.runtime.Model;
import dev.distill.runtime.Precision;
import dev.distill.runtime.Preprocessing;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quantized DL4J student written packed and run on distill-runtime's int8 path, and core's Vector API kernel. */
class Int8PackedModelTest {

    @TempDir
    Path dir;

    private Model packed(QuantSettings.Scheme scheme, boolean symmetric, double sparsity) {
        MultiLayerNetwork net = FineTuningTest.trained(sparsity);
        QuantSettings s = new QuantSettings(scheme, scheme == QuantSettings.Scheme.KMEANS ? 4 : 8, true, symmetric,
                QuantSettings.Calibration.MINMAX, 99.99, 4, QuantSettings.Init.LINEAR, 0, false, false);
        Quantization.Outcome o = new Quantization(s, FineTuningTest.fineTuning(Optimizer.ADAM, 1e-3))
                .run(net, FineTuningTest.SPEC);
        Path file = dir.resolve(scheme + "-" + symmetric + sparsity + ".packed");
        PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, Preprocessing.NONE, List.of(), file);
        return PackedModelFile.read(file);
    }

    @Test
    void theInt8PathAgreesWithTheQuantizedDl4jNetwork() {
        for (boolean symmetric : new boolean[] {true, false}) {
            for (double sparsity : new double[] {0, 0.7}) {
                MultiLayerNetwork net = FineTuningTest.trained(sparsity);
                QuantSettings s = new QuantSettings(QuantSettings.Scheme.INT8, 8, true, symmetric,
                        QuantSettings.Calibration.MINMAX, 99.99, 4, QuantSettings.Init.LINEAR, 0, false, false);
                Quantization.Outcome o = new Quantization(s, FineTuningTest.fineTuning(Optimizer.ADAM, 1e-3))
                        .run(net, FineTuningTest.SPEC);
                Path file = dir.resolve("int8" + symmetric + sparsity + ".packed");
                PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, Preprocessing.NONE, List.of(),
                        file);
                Model int8 = PackedModelFile.read(file);
                assertEquals(Precision.INT8, int8.precision(), "an int8 file runs on the int8 path by default");
                Model fp32 = int8.withPrecision(Precision.FLOAT32);
                int n = FineTuningTest.VALIDATION.size();
                int[] ints = new int[n];
                int[] floats = new int[n];
                for (int i = 0; i < n; i++) {
                    float[] x = FineTuningTest.VALIDATION.features().getRow(i).toFloatVector();
                    ints[i] = int8.classifyPreprocessed(x);
                    floats[i] = fp32.classifyPreprocessed(x);
                }
                int[] dl4j = Accuracy.predict(o.net(), FineTuningTest.VALIDATION.features());
                String label = "symmetric " + symmetric + ", sparsity " + sparsity;
                assertEquals(1.0, TinyData.agreement(floats, dl4j), label + ": the float path is DL4J's network");
                assertTrue(TinyData.agreement(ints, dl4j) >= 0.97, label + ": int8 agreement "
                        + TinyData.agreement(ints, dl4j));
                float[] probs = int8.predictPreprocessed(FineTuningTest.VALIDATION.features().getRow(0).toFloatVector());
                float[] ref = o.net().output(FineTuningTest.VALIDATION.features().getRows(0), false).toFloatVector();
                assertArrayEquals(ref, probs, 0.05f, label + ": probabilities of one example");
            }
        }
    }

    @Test
    void vectorKernelSumsEqualTheScalarKernels() {
        Int8Dot vector = Int8Dot.vector().orElseThrow(() -> new AssertionError(
                "no Vector API kernel: surefire's argLine adds --add-modules jdk.incubator.vector"));
        java.util.Random random = new java.util.Random(7);
        // lengths around every vector width, a layer's 784, and the extremes of int8 products
        for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 784}) {
            byte[] w = new byte[n + 5];
            byte[] x = new byte[n];
            random.nextBytes(w);
            random.nextBytes(x);
            long reference = 0;
            for (int i = 0; i < n; i++) {
                reference += (long) w[i + 5] * x[i];
            }
            assertEquals(reference, vector.dot(w, 5, x, n), "length " + n);
            assertEquals(reference, Int8Dot.scalar().dot(w, 5, x, n), "length " + n);
            java.util.Arrays.fill(w, (byte) -128);
            java.util.Arrays.fill(x, (byte) -128);
            assertEquals(16384L * n, vector.dot(w, 5, x, n), "all -128, length " + n);
        }
    }

    @Test
    void bothKernelsGiveTheSameOutputsAndTheVectorOneIsChosenUnlessSwitchedOff() {
        Model vector = packed(QuantSettings.Scheme.INT8, false, 0.5);
        assertEquals("vector", vector.int8Kernel(), "found through ServiceLoader in distill-core");
        Model scalar = vector.withInt8Kernel(Int8Dot.scalar());
        for (int e = 0; e < 50; e++) {
            float[] input = FineTuningTest.VALIDATION.features().getRow(e).toFloatVector();
            assertArrayEquals(scalar.predictPreprocessed(input), vector.predictPreprocessed(input), "example " + e);
        }
        System.setProperty("distill.vector", "false");
        try {
            assertEquals("scalar", Int8Dot.best().name());
        } finally {
            System.clearProperty("distill.vector");
        }
    }

    @Test
    void aKmeansModelHasOnlyTheFloatPath() {
        Model kmeans = packed(QuantSettings.Scheme.KMEANS, true, 0);
        assertFalse(kmeans.supports(Precision.INT8));
        assertEquals(Precision.FLOAT32, kmeans.precision());
    }
}
