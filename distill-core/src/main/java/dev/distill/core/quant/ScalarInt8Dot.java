package dev.distill.core.quant;

/**
 * Σ w·x over int8 codes in plain Java. Four independent accumulators: HotSpot's C2 does not vectorise a
 * byte-times-byte reduction into an int, so the loop is bound by the dependency on one sum without them.
 */
final class ScalarInt8Dot implements Int8Dot {

    static final ScalarInt8Dot INSTANCE = new ScalarInt8Dot();

    private ScalarInt8Dot() {
    }

    @Override
    public int dot(byte[] w, int offset, byte[] x, int n) {
        int s0 = 0;
        int s1 = 0;
        int s2 = 0;
        int s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[offset + i] * x[i];
            s1 += w[offset + i + 1] * x[i + 1];
            s2 += w[offset + i + 2] * x[i + 2];
            s3 += w[offset + i + 3] * x[i + 3];
        }
        for (; i < n; i++) {
            s0 += w[offset + i] * x[i];
        }
        return s0 + s1 + s2 + s3;
    }

    @Override
    public String name() {
        return "scalar";
    }
}
