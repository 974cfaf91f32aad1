package dev.distill.runtime;

/**
 * Σ w·x over int8 codes in plain Java: one accumulator. Four independent accumulators, as the float
 * path's dense layers use, made this byte loop twice as slow in a throw-away microbenchmark (26-31 µs
 * against 12 µs for a 784 × 32 layer, quiet machine), though the whole integer path showed no difference
 * beyond noise; HotSpot's C2 does not vectorise either form.
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

    @Override
    public String name() {
        return "scalar";
    }
}
