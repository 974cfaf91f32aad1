package dev.distill.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.InputShape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Augmented views: the expected pixels, labels left alone, reproducible per seed and epoch. */
class AugmenterTest {

    /** A 3x4 image, one channel: pixel (y, x) holds 10 * (y + 1) + x + 1, so every value names its place. */
    static float[] image3x4() {
        float[] p = new float[12];
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                p[y * 4 + x] = 10 * (y + 1) + x + 1;
            }
        }
        return p;
    }

    static final InputShape SHAPE = InputShape.image(3, 4, 1);

    /** The 3x4 image mirrored if {@code flip}, then moved by ({@code dy}, {@code dx}). */
    static float[] moved(int dy, int dx, boolean flip) {
        float[] out = new float[12];
        Augmenter.transform(image3x4(), out, 0, SHAPE, dy, dx, flip);
        return out;
    }

    @Test
    void shiftMovesTheImageDownAndRightAndFillsTheUncoveredBorderWithZeros() {
        assertArrayEquals(new float[] {0, 0, 0, 0, /**/ 0, 0, 11, 12, /**/ 0, 0, 21, 22}, moved(1, 2, false));
        assertArrayEquals(new float[] {22, 23, 24, 0, /**/ 32, 33, 34, 0, /**/ 0, 0, 0, 0}, moved(-1, -1, false));
    }

    @Test
    void flipMirrorsEachRowThenTheShiftApplies() {
        assertArrayEquals(new float[] {14, 13, 12, 11, /**/ 24, 23, 22, 21, /**/ 34, 33, 32, 31}, moved(0, 0, true));
        assertArrayEquals(new float[] {0, 14, 13, 12, /**/ 0, 24, 23, 22, /**/ 0, 34, 33, 32}, moved(0, 1, true));
    }

    @Test
    void everyChannelOfAChannelsFirstImageMovesAlike() {
        InputShape two = InputShape.image(3, 4, 2);
        float[] in = new float[24];
        float[] first = image3x4();
        for (int i = 0; i < 12; i++) {
            in[i] = first[i];
            in[12 + i] = -first[i];
        }
        float[] out = new float[24];
        Augmenter.transform(in, out, 0, two, 1, 0, true);
        float[] expected = moved(1, 0, true);
        for (int i = 0; i < 12; i++) {
            assertEquals(expected[i], out[i], 0f);
            assertEquals(-expected[i], out[12 + i], 0f);
        }
    }

    static INDArray batch(int n) {
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = image3x4();
            for (int j = 0; j < 12; j++) {
                rows[i][j] += 100 * i;
            }
        }
        return Nd4j.createFromArray(rows);
    }

    @Test
    void shiftAndFlipLeaveTheLabelsAsTheyWere() {
        INDArray labels = Nd4j.eye(8).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        Augmenter.View view = new Augmenter(new Augmentation(1, true, 0), SHAPE).apply(batch(8), labels, 3, 1, 0);
        assertSame(labels, view.labels());
        assertArrayEquals(new long[] {8, 12}, view.features().shape());
    }

    @Test
    void theSameSeedAndEpochGiveTheSameViewsAndAnotherEpochOrSeedOthers() {
        Augmenter a = new Augmenter(new Augmentation(1, true, 0), SHAPE);
        INDArray x = batch(16);
        INDArray y = Nd4j.zeros(16, 2);
        float[] once = a.apply(x, y, 7, 3, 128).features().ravel().toFloatVector();
        float[] again = a.apply(x, y, 7, 3, 128).features().ravel().toFloatVector();
        assertArrayEquals(once, again, 0f);
        assertFalse(Arrays.equals(once, a.apply(x, y, 7, 4, 128).features().ravel().toFloatVector()), "another epoch");
        assertFalse(Arrays.equals(once, a.apply(x, y, 8, 3, 128).features().ravel().toFloatVector()), "another seed");
        assertFalse(Arrays.equals(once, a.apply(x, y, 7, 3, 0).features().ravel().toFloatVector()), "another batch");
        assertFalse(Arrays.equals(once, x.ravel().toFloatVector()), "the views differ from the stored images");
        assertArrayEquals(batch(16).ravel().toFloatVector(), x.ravel().toFloatVector(), 0f, "the input is not modified");
    }

    @Test
    void mixupBlendsEachImageWithAnotherByTheWeightItsLabelsGet() {
        int n = 6;
        INDArray x = batch(n);
        INDArray labels = Nd4j.eye(n).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        Augmenter.View view = new Augmenter(new Augmentation(0, false, 0.4), SHAPE).apply(x, labels, 1, 1, 0);
        boolean mixedSomething = false;
        for (int i = 0; i < n; i++) {
            float[] row = view.labels().getRow(i).toFloatVector();
            // one-hot rows of distinct classes: the mixed label says which two images went in, and how much
            double lambda = row[i];
            int partner = i;
            for (int j = 0; j < n; j++) {
                if (j != i && row[j] > 0) {
                    partner = j;
                }
            }
            double sum = 0;
            for (float v : row) {
                sum += v;
            }
            assertEquals(1.0, sum, 1e-6, "a mixed label is still a distribution");
            mixedSomething |= partner != i;
            float[] own = x.getRow(i).toFloatVector();
            float[] other = x.getRow(partner).toFloatVector();
            float[] got = view.features().getRow(i).toFloatVector();
            double weight = partner == i ? 1 : lambda;
            for (int j = 0; j < 12; j++) {
                assertEquals(weight * own[j] + (1 - weight) * other[j], got[j], 1e-3, "example " + i + ", pixel " + j);
            }
        }
        assertTrue(mixedSomething);
    }

    @Test
    void shiftOrFlipOfAFlatInputIsRefusedButMixupIsNot() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Augmenter(new Augmentation(2, false, 0), InputShape.flat(12)));
        assertTrue(e.getMessage().contains("image"), e.getMessage());
        new Augmenter(new Augmentation(0, false, 0.2), InputShape.flat(12));
    }

    @Test
    void negativeShiftOrMixupIsRefusedNamingIt() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Augmentation(-1, false, 0))
                .getMessage().startsWith("shift"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Augmentation(0, false, -0.1))
                .getMessage().startsWith("mixup"));
        assertFalse(Augmentation.NONE.active());
    }
}
