package dev.distill.runtime;

/**
 * How the values of the data files become the network's input: input = raw × scale + shift, for every
 * value (the data source's {@code scale}, e.g. 1/255 for 8-bit pixels; a shift for a normalization).
 * {@link Model#predict} applies it, so an app passes values exactly as the data files hold them.
 */
public final class Preprocessing {

    /** Nothing to do: the raw values are the network's input. */
    public static final Preprocessing NONE = new Preprocessing(1f, 0f);

    private final float scale;
    private final float shift;

    public Preprocessing(float scale, float shift) {
        if (!Float.isFinite(scale) || !Float.isFinite(shift)) {
            throw new IllegalArgumentException("preprocessing scale " + scale + ", shift " + shift + ": not finite");
        }
        this.scale = scale;
        this.shift = shift;
    }

    public float scale() {
        return scale;
    }

    public float shift() {
        return shift;
    }

    /** A new array: the network's input for {@code raw}. */
    public float[] apply(float[] raw) {
        float[] x = new float[raw.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = raw[i] * scale + shift;
        }
        return x;
    }

    @Override
    public String toString() {
        return "input = raw × " + scale + (shift != 0 ? " + " + shift : "");
    }
}
