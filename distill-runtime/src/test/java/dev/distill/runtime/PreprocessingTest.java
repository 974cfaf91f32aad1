package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Per-feature preprocessing (a standardized or min-max scaled data set): kept by the packed file, applied
 * by {@link Model#predict} after the global scale, so an app passes the features as its files hold them;
 * version 3 files, which have none, are still read.
 */
class PreprocessingTest {

    private static final float[] SCALES = new float[64];
    private static final float[] SHIFTS = new float[64];

    static {
        Random r = new Random(5);
        for (int i = 0; i < 64; i++) {
            SCALES[i] = (float) Math.pow(10, r.nextInt(7) - 3);
            SHIFTS[i] = (float) r.nextGaussian();
        }
    }

    private static ModelDescription normalizedMlp() {
        ModelDescription d = TestModels.mlp(7, 1);
        return new ModelDescription(d.inputShape(), new Preprocessing(2f, 1f, SCALES, SHIFTS), d.classNames(), d.ops());
    }

    @Test
    void eachFeatureIsScaledThenShiftedAfterTheGlobalScale() {
        Preprocessing p = new Preprocessing(2f, 1f, new float[] {10f, 0.5f}, new float[] {-3f, 4f});
        assertArrayEquals(new float[] {(1 * 2 + 1) * 10f - 3, (5 * 2 + 1) * 0.5f + 4}, p.apply(new float[] {1, 5}), 0f);
        assertThrows(IllegalArgumentException.class, () -> p.apply(new float[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> new Preprocessing(1f, 0f, new float[2], new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> new Preprocessing(1f, 0f, new float[] {Float.NaN}, new float[] {0}));
        assertFalse(Preprocessing.NONE.perFeature());
    }

    @Test
    void thePackedFileKeepsThePerFeaturePairsAndPredictAppliesThem() throws Exception {
        ModelDescription d = normalizedMlp();
        Model back = Model.of(PackedFormat.read(TestModels.packed(d, true), "test"), "test");
        assertTrue(back.preprocessing().perFeature());
        assertArrayEquals(SCALES, back.preprocessing().featureScales(), 0f);
        assertArrayEquals(SHIFTS, back.preprocessing().featureShifts(), 0f);
        Random r = new Random(11);
        for (int n = 0; n < 20; n++) {
            float[] raw = new float[64];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = (float) r.nextGaussian() * 3;
            }
            float[] input = new float[64];
            for (int i = 0; i < input.length; i++) {
                input[i] = (raw[i] * 2f + 1f) * SCALES[i] + SHIFTS[i];
            }
            assertArrayEquals(back.predictPreprocessed(input), back.predict(raw), 0f);
        }
    }

    @Test
    void aCountOfPairsThatIsNotTheInputSizeIsRefused() {
        ModelDescription d = TestModels.mlp(7, 1);
        ModelDescription wrong = new ModelDescription(d.inputShape(), new Preprocessing(1f, 0f, new float[3],
                new float[3]), d.classNames(), d.ops());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> PackedFormat.read(TestModels.packed(wrong, false), "wrong.packed"));
        assertTrue(e.getMessage().contains("3 per-feature preprocessing pairs for an input of 64 values"), e.getMessage());
    }

    @Test
    void aVersion3FileWithoutPerFeaturePairsIsStillRead() throws Exception {
        ModelDescription d = TestModels.mlp(3, 2);
        byte[] v4 = TestModels.packed(d, false);
        // version 3 is version 4 without the pair count (a varint 0) after scale and shift
        int count = PackedFormat.MAGIC.length + 2 + 4 + 3 + 8;
        assertEquals(0, v4[count]);
        byte[] v3 = new byte[v4.length - 1];
        System.arraycopy(v4, 0, v3, 0, count);
        System.arraycopy(v4, count + 1, v3, count, v4.length - count - 1);
        ByteBuffer.wrap(v3).putShort(PackedFormat.MAGIC.length, (short) 3).putInt(PackedFormat.MAGIC.length + 2,
                v3.length);
        CRC32 crc = new CRC32();
        crc.update(v3, 0, v3.length - 4);
        ByteBuffer.wrap(v3).putInt(v3.length - 4, (int) crc.getValue());
        ModelDescription back = PackedFormat.read(v3, "v3");
        assertFalse(back.preprocessing().perFeature());
        assertEquals(d.preprocessing().scale(), back.preprocessing().scale());
        assertTrue(Arrays.equals(TestModels.packed(back, false), v4), "read as it was written");
    }
}
