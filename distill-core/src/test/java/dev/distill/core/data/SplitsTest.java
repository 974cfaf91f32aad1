package dev.distill.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.core.testing.TinyData;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hold-out splits: deterministic in the seed, disjoint, complete, of the stated sizes. */
class SplitsTest {

    /** Positions of the examples of a part, read back from their first feature. */
    private static int[] positions(LabeledData part) {
        int[] p = new int[part.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = part.features().getInt(i, 0);
        }
        return p;
    }

    @Test
    void sameSeedGivesTheSamePartition() {
        LabeledData data = TinyData.indexed(500, 3, 4);
        Splits.Pair a = Splits.holdOut(data, 0.2, 42);
        Splits.Pair b = Splits.holdOut(data, 0.2, 42);
        assertArrayEquals(positions(a.first()), positions(b.first()));
        assertArrayEquals(positions(a.second()), positions(b.second()));
        assertEquals(a.second().features(), b.second().features());
        assertArrayEquals(a.second().labels(), b.second().labels());
    }

    @Test
    void differentSeedsGiveDifferentPartitions() {
        LabeledData data = TinyData.indexed(500, 3, 4);
        int[] a = positions(Splits.holdOut(data, 0.2, 1).second());
        int[] b = positions(Splits.holdOut(data, 0.2, 2).second());
        assertEquals(a.length, b.length);
        assertNotEquals(Set.of(box(a)), Set.of(box(b)));
    }

    @Test
    void partsAreDisjointCompleteAndKeepLabelsWithTheirFeatures() {
        LabeledData data = TinyData.indexed(301, 3, 4);
        Splits.Pair pair = Splits.holdOut(data, 0.3, 7);
        Set<Integer> first = new HashSet<>(Set.of(box(positions(pair.first()))));
        Set<Integer> second = new HashSet<>(Set.of(box(positions(pair.second()))));
        assertEquals(pair.first().size(), first.size(), "no duplicates");
        assertEquals(pair.second().size(), second.size(), "no duplicates");
        Set<Integer> overlap = new HashSet<>(first);
        overlap.retainAll(second);
        assertTrue(overlap.isEmpty(), "overlap " + overlap);
        Set<Integer> union = new HashSet<>(first);
        union.addAll(second);
        assertEquals(301, union.size());
        for (LabeledData part : new LabeledData[] {pair.first(), pair.second()}) {
            assertEquals(4, part.numClasses());
            assertEquals(3, part.featureCount());
            int[] p = positions(part);
            for (int i = 0; i < p.length; i++) {
                assertEquals(p[i] % 4, part.labels()[i], "label of example " + p[i]);
                assertEquals(p[i] * 0.5f + 2, part.features().getFloat(i, 2), 0f, "features of example " + p[i]);
                if (i > 0) {
                    assertTrue(p[i - 1] < p[i], "original order kept inside a part");
                }
            }
        }
        // the held-out part is a random sample, not a block at either end
        int[] held = positions(pair.second());
        assertTrue(held[0] < 30 && held[held.length - 1] > 270, held[0] + ".." + held[held.length - 1]);
    }

    @ParameterizedTest(name = "n={0} fraction={1} -> {2} held out")
    @CsvSource({"100, 0.2, 20", "101, 0.25, 25", "10, 0.25, 3", "10, 0.24, 2", "7, 0.5, 4", "1000, 0.0, 0",
            "3, 0.9, 3", "1797, 0.2, 359"})
    void heldOutSizeIsNTimesFractionRounded(int n, double fraction, int held) {
        assertEquals(held, Math.round(n * fraction), "the expectation itself");
        Splits.Pair pair = Splits.holdOut(TinyData.indexed(n, 1, 2), fraction, 3);
        assertEquals(held, pair.second().size());
        assertEquals(n - held, pair.first().size());
    }

    @Test
    void fractionOutsideZeroToOneIsRejected() {
        LabeledData data = TinyData.indexed(10, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> Splits.holdOut(data, 1.0, 0));
        assertThrows(IllegalArgumentException.class, () -> Splits.holdOut(data, -0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> Splits.holdOut(data, Double.NaN, 0));
    }

    private static Integer[] box(int[] values) {
        Integer[] boxed = new Integer[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }
}
