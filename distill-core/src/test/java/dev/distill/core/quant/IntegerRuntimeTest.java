package dev.distill.core.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.eval.Accuracy;
import dev.distill.core.testing.TinyData;
import dev.distill.core.train.Optimizer;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The integer dense path against a reference in longs and against the float network. */
class IntegerRuntimeTest {

    @TempDir
    Path dir;

    private PackedModelFile.Packed packed(boolean symmetric, boolean perChannel, double sparsity) {
        MultiLayerNetwork net = FineTuningTest.trained(sparsity);
        QuantSettings s = new QuantSettings(QuantSettings.Scheme.INT8, 8, perChannel, symmetric,
                QuantSettings.Calibration.MINMAX, 99.99, 4, QuantSettings.Init.LINEAR, 0, false, false);
        Quantization.Outcome o = new Quantization(s, FineTuningTest.fineTuning(Optimizer.ADAM, 1e-3))
                .run(net, FineTuningTest.SPEC);
        Path file = dir.resolve("int8-" + symmetric + perChannel + sparsity + ".packed");
        PackedModelFile.write(o.net(), o.tensors(), o.activations(), false, file);
        return PackedModelFile.read(file);
    }

    @Test
    void accumulatorsEqualAReferenceComputedWithLongs() {
        for (boolean symmetric : new boolean[] {true, false}) {
            for (double sparsity : new double[] {0, 0.7}) {
                PackedModelFile.Packed p = packed(symmetric, true, sparsity);
                IntegerRuntime rt = IntegerRuntime.compile(p);
                QuantizedTensor w = p.tensors().stream().filter(t -> t.key().equals("0_W")).findFirst().orElseThrow();
                float[] bias = p.tensors().stream().filter(t -> t.key().equals("0_b")).findFirst().orElseThrow()
                        .dequantize();
                ActivationCalibration.Range x = p.activations().get(0);
                int in = (int) w.shape()[0];
                int out = (int) w.shape()[1];
                // codes of every weight, the zero point where nothing is stored
                long[][] codes = new long[in][out];
                for (int r = 0; r < in; r++) {
                    for (int c = 0; c < out; c++) {
                        codes[r][c] = w.zeroPoints()[c];
                    }
                }
                for (int k = 0; k < w.stored(); k++) {
                    codes[w.position(k) / out][w.position(k) % out] = w.codes()[k];
                }
                for (int e = 0; e < 20; e++) {
                    float[] input = FineTuningTest.VALIDATION.features().getRow(e).toFloatVector();
                    byte[] q = rt.quantizeInput(input);
                    int[] acc = rt.accumulators(0, q);
                    for (int c = 0; c < out; c++) {
                        long ref = 0;
                        for (int r = 0; r < in; r++) {
                            ref += ((long) q[r] - x.zeroPoint()) * (codes[r][c] - w.zeroPoints()[c]);
                        }
                        ref += Math.round(bias[c] / ((double) x.scale() * w.scales()[c]));
                        assertEquals(ref, acc[c], "symmetric " + symmetric + ", sparsity " + sparsity + ", example "
                                + e + ", unit " + c);
                    }
                }
            }
        }
    }

    @Test
    void integerPredictionsAgreeWithTheFloatNetwork() {
        PackedModelFile.Packed p = packed(true, true, 0);
        IntegerRuntime rt = IntegerRuntime.compile(p);
        int n = FineTuningTest.VALIDATION.size();
        int[] ints = new int[n];
        for (int i = 0; i < n; i++) {
            ints[i] = rt.predict(FineTuningTest.VALIDATION.features().getRow(i).toFloatVector());
        }
        int[] floats = Accuracy.predict(p.net(), FineTuningTest.VALIDATION.features());
        assertTrue(TinyData.agreement(ints, floats) >= 0.97, "agreement " + TinyData.agreement(ints, floats));
        float[] probs = rt.output(FineTuningTest.VALIDATION.features().getRow(0).toFloatVector());
        float[] ref = p.net().output(FineTuningTest.VALIDATION.features().getRows(0), false).toFloatVector();
        assertArrayEquals(ref, probs, 0.05f, "probabilities of one example");
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
    void bothKernelsGiveTheSameOutputs() {
        IntegerRuntime scalar = IntegerRuntime.compile(packed(false, true, 0.5), Int8Dot.scalar());
        IntegerRuntime vector = scalar.withKernel(Int8Dot.vector().orElseThrow());
        assertEquals("vector", vector.kernel());
        for (int e = 0; e < 50; e++) {
            float[] input = FineTuningTest.VALIDATION.features().getRow(e).toFloatVector();
            assertArrayEquals(scalar.output(input), vector.output(input), "example " + e);
        }
    }

    @Test
    void theVectorKernelIsChosenUnlessSwitchedOff() {
        assertEquals("vector", Int8Dot.best().name());
        System.setProperty("distill.vector", "false");
        try {
            assertEquals("scalar", Int8Dot.best().name());
        } finally {
            System.clearProperty("distill.vector");
        }
    }

    @Test
    void fixedPointRequantizationMatchesTheRealMultiplier() {
        for (double m : new double[] {0.7, 0.0031, 1.9e-5, 3.5}) {
            long[] f = IntegerRuntime.fixedPoint(m);
            assertTrue(f[0] >= 1L << 30 && f[0] < 1L << 31, "multiplier " + f[0]);
            for (int acc : new int[] {0, 1, -1, 1234, -98765, 3_000_000}) {
                long expected = Math.round(acc * m);
                assertTrue(Math.abs(IntegerRuntime.scale(acc, (int) f[0], (int) f[1]) - expected) <= 1,
                        m + " × " + acc);
            }
        }
    }

    @Test
    void aKmeansModelIsRefusedNamingTheLayer() {
        MultiLayerNetwork net = FineTuningTest.trained(0);
        QuantSettings s = new QuantSettings(QuantSettings.Scheme.KMEANS, 4, false, true,
                QuantSettings.Calibration.MINMAX, 99.99, 1, QuantSettings.Init.LINEAR, 0, false, false);
        Quantization.Outcome o = new Quantization(s, FineTuningTest.fineTuning(Optimizer.SGD, 1e-3))
                .run(net, FineTuningTest.SPEC);
        Path file = dir.resolve("kmeans.packed");
        PackedModelFile.write(o.net(), o.tensors(), List.of(), false, file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IntegerRuntime.compile(PackedModelFile.read(file)));
        assertEquals("layer 0: weights are kmeans, the integer path needs linear codes", e.getMessage());
    }
}
