package dev.distill.runtime;

/**
 * IEEE 754 half precision (binary16) for the packed file's float parameters (biases, scales,
 * centroids). Java 17 has no {@code Float.floatToFloat16}, hence these few lines. Values are rounded to
 * half once, when the model is quantized, so the file stores them exactly and a round trip stays
 * bit-exact; a value half cannot hold (beyond ±65504, infinite, NaN) keeps 32 bits.
 */
public final class Half {

    /** The largest finite half. */
    private static final float MAX = 65504f;
    /** The smallest normal half, 2^−14; below it halves are multiples of 2^−24. */
    private static final float MIN_NORMAL = 0x1p-14f;

    private Half() {
    }

    /** {@code f} rounded to the nearest half (ties to even), or {@code f} itself if half cannot hold it. */
    public static float round(float f) {
        if (!(Math.abs(f) <= MAX)) {
            return f;
        }
        if (Math.abs(f) < MIN_NORMAL) {
            // scaling by a power of two is exact, so this rounds to a multiple of 2^−24 and nothing else
            return (float) (Math.rint(f * 0x1p24) * 0x1p-24);
        }
        int bits = Float.floatToRawIntBits(f);
        bits += 0x0FFF + ((bits >>> 13) & 1);
        float rounded = Float.intBitsToFloat(bits & ~0x1FFF);
        return Math.abs(rounded) <= MAX ? rounded : f;
    }

    /** Whether {@code f} is exactly a half (then {@link #bits} and {@link #value} round-trip it). */
    static boolean holds(float f) {
        return Math.abs(f) <= MAX && Float.floatToRawIntBits(round(f)) == Float.floatToRawIntBits(f);
    }

    static boolean holdsAll(float[] values) {
        for (float v : values) {
            if (!holds(v)) {
                return false;
            }
        }
        return true;
    }

    /** The 16 bits of a value {@link #holds} accepts. */
    static int bits(float f) {
        int raw = Float.floatToRawIntBits(f);
        int sign = (raw >>> 16) & 0x8000;
        float a = Math.abs(f);
        if (a < MIN_NORMAL) {
            return sign | (int) (a * 0x1p24f);
        }
        int exponent = ((raw >>> 23) & 0xFF) - 127 + 15;
        return sign | exponent << 10 | (raw >>> 13) & 0x3FF;
    }

    /** The value of 16 half bits (infinities and NaNs never written, so read as the largest exponent's values). */
    static float value(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0) {
            float v = mantissa * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | (exponent - 15 + 127) << 23 | mantissa << 13);
    }

    /** Each value rounded by {@link #round}. */
    public static float[] round(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = round(values[i]);
        }
        return out;
    }
}
