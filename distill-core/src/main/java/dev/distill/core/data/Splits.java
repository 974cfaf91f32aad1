package dev.distill.core.data;

import java.util.Random;

/**
 * Deterministic random splits of a data set: the same seed gives the same partition on every
 * machine (java.util.Random is specified to the bit).
 */
public final class Splits {

    private Splits() {
    }

    /** Two disjoint parts: {@code first} holds a fraction {@code 1 - heldOut} of the examples, {@code second} the rest. */
    public record Pair(LabeledData first, LabeledData second) {
    }

    /**
     * Shuffles the example positions with {@code seed} and holds out {@code round(n · fraction)} of
     * them. A fraction of 0 holds out nothing.
     */
    public static Pair holdOut(LabeledData data, double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("a held-out fraction must be in [0, 1), got " + fraction);
        }
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random random = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        int held = (int) Math.round(n * fraction);
        int[] kept = java.util.Arrays.copyOfRange(order, 0, n - held);
        int[] out = java.util.Arrays.copyOfRange(order, n - held, n);
        // sorted positions keep the original order inside each part (stable, easy to inspect)
        java.util.Arrays.sort(kept);
        java.util.Arrays.sort(out);
        return new Pair(data.subset(kept), data.subset(out));
    }
}
