package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API: loading, preprocessing, classes, shapes, errors, sharing between threads. */
class ModelTest {

    @TempDir
    Path dir;

    @Test
    void predictAppliesThePreprocessingToRawValues() throws Exception {
        Path file = Files.write(dir.resolve("mlp.packed"), TestModels.packed(TestModels.mlp(1, 1), true));
        Model m = Model.load(file);
        assertEquals(64, m.inputSize());
        assertArrayEquals(new int[] {64, 1, 1}, m.inputShape());
        assertEquals(10, m.outputSize());
        assertEquals("three", m.classNames().get(3));
        assertEquals(1f / 16, m.preprocessing().scale());
        Random r = new Random(1);
        float[] raw = new float[64];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = r.nextInt(17);
        }
        float[] scaled = new float[64];
        for (int i = 0; i < raw.length; i++) {
            scaled[i] = raw[i] / 16;
        }
        assertArrayEquals(m.predictPreprocessed(scaled), m.predict(raw), 0f);
        assertEquals(Model.argmax(m.predict(raw)), m.classify(raw));
        float sum = 0;
        for (float p : m.predict(raw)) {
            sum += p;
        }
        assertEquals(1f, sum, 1e-5f);
        Model fromStream = Model.load(new ByteArrayInputStream(Files.readAllBytes(file)), "mlp resource");
        assertArrayEquals(m.predict(raw), fromStream.predict(raw), 0f);
    }

    @Test
    void aWrongInputLengthNamesTheExpectedShape() throws Exception {
        Model m = Model.of(TestModels.cnn(2), "cnn");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.predict(new float[10]));
        assertEquals("expected 144 input values (1 channels x 12 x 12, channels first), got 10", e.getMessage());
    }

    @Test
    void aModelWhoseLayersDoNotFitIsRefusedInOneLine() {
        Random r = new Random(3);
        ModelDescription bad = new ModelDescription(new int[] {10, 1, 1}, Preprocessing.NONE, List.of(),
                List.of(Op.dense(TestModels.floats("0_W", r, 12, 4), null, ActivationFunction.RELU, 0)));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Model.of(bad, "bad.packed"));
        assertEquals("bad.packed: the model does not fit together (op 0 (dense relu) takes 12 inputs but receives 10)",
                e.getMessage());
        ModelFormatException missing = assertThrows(ModelFormatException.class,
                () -> Model.load(dir.resolve("missing.packed")));
        assertTrue(missing.getMessage().startsWith(dir.resolve("missing.packed") + ": cannot read the model file"),
                missing.getMessage());
    }

    @Test
    void olderVersionsAreRefusedWithWhatToDo() throws Exception {
        byte[] bytes = TestModels.packed(TestModels.mlp(1, 1), false);
        bytes[9] = 2;
        Path file = Files.write(dir.resolve("v2.packed"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Model.load(file));
        assertEquals(file + ": packed model format version 2, this runtime reads versions 3 and 4 (write it again: re-run"
                + " the quantize stage, or ./distill export on the model's .zip or .sparse file)", e.getMessage());
    }

    @Test
    void oneModelServesManyThreadsAtOnce() throws Exception {
        for (Model m : new Model[] {Model.of(TestModels.mlp(4, 2), "mlp"), Model.of(TestModels.cnn(4), "cnn")}) {
            Random r = new Random(9);
            List<float[]> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int e = 0; e < 64; e++) {
                float[] x = TestModels.gaussian(r, m.inputSize(), 50);
                inputs.add(x);
                expected.add(m.predict(x));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    results.add(pool.submit(() -> {
                        for (int round = 0; round < 20; round++) {
                            for (int e = 0; e < inputs.size(); e++) {
                                if (!java.util.Arrays.equals(expected.get(e), m.predict(inputs.get(e)))) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> f : results) {
                    assertTrue(f.get(), "every thread saw the single-threaded outputs");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
