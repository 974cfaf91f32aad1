package dev.distill.runtime;

/**
 * Σ w·x over int8 codes in plain Java. The int8 path's dense layers call {@link #dot(int[], int[], int)}
 * on codes stored widened to int: HotSpot's C2 vectorises that loop (an int reduction), not the byte one,
 * which neither one accumulator nor four made fast (12 µs and 26-31 µs for a 784 × 32 layer, quiet
 * machine; on ints indexed alike the loop is vectorised). The byte method serves
 * the {@link Int8Dot} contract (the same integers as a vector kernel).
 */
final class ScalarInt8Dot implements Int8Dot {

    static final ScalarInt8Dot INSTANCE = new ScalarInt8Dot();

    private ScalarInt8Dot() {
    }

    @Override
    public int dot(byte[] w, int offset, byte[] x, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += w[offset + i] * x[i];
        }
        return sum;
    }

    /** Σ {@code w[i] × x[i]} for i in [0, n), on codes widened to int (both indexed alike, which C2 needs). */
    static int dot(int[] w, int[] x, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += w[i] * x[i];
        }
        return sum;
    }

    @Override
    public String name() {
        return "scalar";
    }
}
