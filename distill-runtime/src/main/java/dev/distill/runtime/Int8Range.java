package dev.distill.runtime;

/**
 * The calibrated range of the values entering a layer on the int8 path, as an asymmetric 8-bit code:
 * real value = scale × (code − zeroPoint), codes in [−128, 127].
 */
public final class Int8Range {

    final float scale;
    final int zeroPoint;

    public Int8Range(float scale, int zeroPoint) {
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    public float scale() {
        return scale;
    }

    public int zeroPoint() {
        return zeroPoint;
    }

    int quantize(float x) {
        // in long: Math.round saturates at Integer.MAX_VALUE, which adding a positive zero point would wrap
        return (int) Math.max(-128, Math.min(127, (long) Math.round(x / scale) + zeroPoint));
    }

    boolean sameAs(Int8Range o) {
        return o != null && Float.floatToIntBits(scale) == Float.floatToIntBits(o.scale) && zeroPoint == o.zeroPoint;
    }
}
